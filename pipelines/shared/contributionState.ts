/**
 * SQL pieces shared by the flows that carry a quarter's contribution state (career,
 * contribution-slips), so that both compute due and paid the same way (flows.md):
 * `due` = provisional + regularisation contributions of the quarter :periodKey;
 * `mov` = payments (+) and refunds (−) allocated to them, value date ≤ :asOfDay, in date order.
 * Use as CTEs: `WITH ${CONTRIBUTION_CTES}, …` then LEFT JOIN due / mov USING (affiliate_id).
 */
export const CONTRIBUTION_CTES = `
contrib AS (
  SELECT contribution_id, affiliate_id, amount_cents
  FROM dossier.contributions
  WHERE quarter = :periodKey AND kind IN ('provisional', 'regularisation')
), due AS (
  SELECT affiliate_id, sum(amount_cents) AS due FROM contrib GROUP BY affiliate_id
), mov AS (
  SELECT c.affiliate_id,
         json_agg(json_build_array(p.value_date, CASE WHEN p.kind = 'refund' THEN -p.amount_cents ELSE p.amount_cents END)
                  ORDER BY p.value_date, p.kind, p.payment_id COLLATE "C") AS movements
  FROM dossier.payments p JOIN contrib c USING (contribution_id)
  WHERE p.value_date <= :asOfDay
  GROUP BY c.affiliate_id
)`;

/** The json_build_object arguments that carry due and movements (after the joins above). */
export const CONTRIBUTION_FIELDS = `'due', coalesce(due.due, 0), 'movements', coalesce(mov.movements, '[]'::json)`;
