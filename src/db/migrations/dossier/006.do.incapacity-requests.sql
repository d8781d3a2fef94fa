-- The requests of the mutual insurers (incapacity_requests.csv, an optional file of the dossier
-- CSV contract, docs/dossier-csv.md), read by the incapacity-attestations flow, one day at a time.
CREATE TABLE dossier.incapacity_requests (
  request_id       text COLLATE "C" PRIMARY KEY,
  affiliate_id     text COLLATE "C" NOT NULL REFERENCES dossier.affiliates,
  insurer_code     text NOT NULL CHECK (insurer_code IN ('100', '200', '300', '400', '500', '600', '900')),
  requested_on     date NOT NULL,
  incapacity_start date NOT NULL
);
-- A day's run reads the requests of that day.
CREATE INDEX incapacity_requests_requested_on ON dossier.incapacity_requests (requested_on);
