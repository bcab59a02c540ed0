-- The pairing and validation jobs read what one crawl found: its pages, its
-- downloaded images and its pair candidates (workers/pairing/crawl_findings.cpp).
-- Without this index each of those reads would scan the whole log.
CREATE INDEX events_crawl_job ON events ((payload->>'crawl_job_id'), event_type)
  WHERE event_type IN ('PageCaptured', 'ImageDownloaded', 'PairCandidateFound');
