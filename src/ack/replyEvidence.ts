import { isConnectionLoss } from '../db/connectionLost.js';
import { DatabaseError } from '../errors/errors.js';
import { type MovedAside, writeEvidenceOfFile, writeEvidencePack } from '../evidence/evidencePack.js';
import { maskPersonalData } from '../log/maskPersonalData.js';
import type { AckDeps } from './ingestReplies.js';

/**
 * Writes the evidence a reply just recorded calls for: the pack of its submission (or of the
 * submissions of the data file it names), or its addendum (writeEvidencePack). Nothing without an
 * evidence folder. The reply is recorded already and stands whatever happens here: a pack that
 * cannot be written this pass (an outbox file archived or changed, a pack that no longer matches,
 * an evidence volume not writable) is logged with the reply, the pack's submission or file and
 * the reason, and returned as the outcome's `evidence`; the pass goes on with the next reply, and
 * `maillon evidence` (or the next reply about it) writes the pack later. A database gone ends the
 * pass, as anywhere else.
 */
export async function writeReplyEvidence(deps: AckDeps, reply: string, of: { submissionId: number } | { fileName: string }): Promise<{ evidence?: string }> {
  if (!deps.evidenceDir) return {};
  const moved = (m: MovedAside): void => deps.logger.warn({ reply: reply.slice(0, 120), folder: m.folder, movedTo: m.to }, "an evidence folder that is not this ledger's was moved aside");
  try {
    if ('submissionId' in of) await writeEvidencePack(deps.ledger, deps.evidenceDir, of.submissionId, deps.clock, moved);
    else await writeEvidenceOfFile(deps.ledger, deps.evidenceDir, of.fileName, deps.clock, moved);
    return {};
  } catch (err) {
    if (err instanceof DatabaseError || isConnectionLoss(err)) throw err;
    const which = 'submissionId' in of ? `submission #${of.submissionId}` : `the submission(s) of ${of.fileName}`;
    const said = maskPersonalData(err instanceof Error ? err.message : String(err)).trim();
    const evidence = `The evidence pack of ${which} could not be written: ${/[.!?]$/.test(said) ? said : `${said}.`} The reply itself is recorded; once this is put right, maillon evidence writes the pack.`;
    deps.logger.warn({ reply: reply.slice(0, 120), ...('submissionId' in of ? { submissionId: of.submissionId } : { file: of.fileName }), reason: evidence }, 'an evidence pack could not be written');
    return { evidence };
  }
}
