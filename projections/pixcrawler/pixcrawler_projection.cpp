#include "projections/pixcrawler/pixcrawler_projection.hpp"

#include <map>
#include <optional>

#include <boost/json.hpp>

#include "events/base/uuid.hpp"

namespace furrsight::projections {
namespace {

// The seed tables (002 "Table Specifications", 004 "Foreign Keys" and
// "Indexes"), columns in the seed's order, then what the system needs
// ("beyond the seed"). Integer ids are serial as the seed's AUTO_INCREMENT,
// but handlers always give them explicitly (coalesce(max(id), 0) + 1 in log
// order), never from the sequence, so a rebuild numbers rows the same way.
//
// The px_* functions are total and deterministic: a malformed field gives
// NULL (then a default, or the row is skipped) instead of an error that would
// stop the projector at that event forever.
inline constexpr std::string_view kSchema = R"~(
CREATE FUNCTION px_uuid(t text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN t::uuid END
$$;
-- "user:<uuid>" -> the uuid; anything else (apikey:, worker:, system:) -> NULL.
CREATE FUNCTION px_actor_user(actor text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN actor ~* '^user:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN substr(actor, 6)::uuid END
$$;
-- A JSON number or numeric string, rounded and clamped to the integer range.
CREATE FUNCTION px_int(t text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN t ~ '^\s*[-+]?[0-9]{1,30}(\.[0-9]+)?\s*$'
              THEN least(greatest(round(t::numeric), -2147483648), 2147483647)::integer END
$$;
-- int64 microseconds since the Unix epoch (the catalog's *_us fields), exactly.
CREATE FUNCTION px_us(t text) RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN t ~ '^\s*-?[0-9]{1,16}\s*$' THEN timestamptz 'epoch' + t::bigint * interval '1 microsecond' END
$$;
-- The last segment of the URL's path, else "<sha256>.<format>".
CREATE FUNCTION px_filename(url text, sha256 text, format text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT left(coalesce(
    nullif(regexp_replace(split_part(split_part(
      regexp_replace(coalesce(url, ''), '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*', ''), '?', 1), '#', 1), '^.*/', ''), ''),
    sha256 || coalesce('.' || nullif(format, ''), '')), 255)
$$;

CREATE TABLE profiles (
  id          uuid PRIMARY KEY,
  email       varchar(255) NOT NULL,
  full_name   varchar(100),
  avatar_url  text,
  role        varchar(20) NOT NULL DEFAULT 'user',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  subject     text,
  issuer      text,
  placeholder boolean NOT NULL DEFAULT false,  -- referenced before any UserSeen
  version     bigint NOT NULL DEFAULT 0        -- the user stream's version (0: placeholder)
);
CREATE UNIQUE INDEX ix_profiles_email ON profiles (email);

CREATE TABLE projects (
  id          serial PRIMARY KEY,
  name        varchar(100) NOT NULL,
  description text,
  user_id     uuid NOT NULL CONSTRAINT fk_projects_user_id REFERENCES profiles (id) ON DELETE CASCADE,
  status      varchar(20) NOT NULL DEFAULT 'active',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  stream_key  text NOT NULL UNIQUE,  -- project-{stream_key}
  version     bigint NOT NULL
);
CREATE INDEX ix_project_user_id ON projects (user_id);

CREATE TABLE crawl_jobs (
  id                serial PRIMARY KEY,
  project_id        integer NOT NULL CONSTRAINT fk_crawl_jobs_project_id REFERENCES projects (id) ON DELETE CASCADE,
  name              varchar(100) NOT NULL,
  keywords          jsonb NOT NULL,
  max_images        integer NOT NULL DEFAULT 1000,
  status            varchar(20) NOT NULL DEFAULT 'pending',
  progress          integer NOT NULL DEFAULT 0,
  total_images      integer NOT NULL DEFAULT 0,
  downloaded_images integer NOT NULL DEFAULT 0,
  valid_images      integer NOT NULL DEFAULT 0,
  started_at        timestamptz,
  completed_at      timestamptz,
  total_chunks      integer NOT NULL DEFAULT 0,
  active_chunks     integer NOT NULL DEFAULT 0,
  completed_chunks  integer NOT NULL DEFAULT 0,
  failed_chunks     integer NOT NULL DEFAULT 0,
  task_ids          jsonb NOT NULL DEFAULT '[]',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  job_id            uuid NOT NULL UNIQUE,            -- job-{job_id}
  requested_by      text,
  error_message     text,
  reported_progress integer NOT NULL DEFAULT 0,      -- the job's own JobProgressed.progress
  counters          jsonb NOT NULL DEFAULT '{}',     -- the job's own latest counters
  planned_chunks    integer NOT NULL DEFAULT 0,      -- JobChildrenPlanned.total
  version           bigint NOT NULL
);
CREATE INDEX ix_crawl_job_status ON crawl_jobs (status);
CREATE INDEX ix_crawl_jobs_project_id ON crawl_jobs (project_id);
CREATE INDEX ix_crawl_job_project_status ON crawl_jobs (project_id, status);

-- Seed 003's JobChunk: the child jobs a crawl job fanned out into.
CREATE TABLE job_chunks (
  id                serial PRIMARY KEY,
  job_id            integer NOT NULL CONSTRAINT fk_job_chunks_job_id REFERENCES crawl_jobs (id) ON DELETE CASCADE,
  chunk_job_id      uuid NOT NULL UNIQUE,            -- job-{chunk_job_id}
  chunk_index       integer NOT NULL,                -- 1, 2, ... in request order
  status            varchar(20) NOT NULL DEFAULT 'pending',
  progress          integer NOT NULL DEFAULT 0,
  images_found      integer NOT NULL DEFAULT 0,
  images_downloaded integer NOT NULL DEFAULT 0,
  images_valid      integer NOT NULL DEFAULT 0,
  started_at        timestamptz,
  completed_at      timestamptz,
  error_message     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  version           bigint NOT NULL
);
CREATE INDEX ix_job_chunks_job_id ON job_chunks (job_id);

CREATE TABLE images (
  id                serial PRIMARY KEY,
  crawl_job_id      integer NOT NULL CONSTRAINT fk_images_crawl_job_id REFERENCES crawl_jobs (id) ON DELETE CASCADE,
  original_url      text NOT NULL,
  filename          varchar(255) NOT NULL,
  storage_url       text,
  width             integer,
  height            integer,
  file_size         integer,
  format            varchar(10),
  -- beyond the seed
  sha256            text NOT NULL,                   -- image-{sha256}
  page_url          text,
  validation_status varchar(20),                     -- NULL, 'valid' or 'rejected'
  rejected_rule     text,
  downloaded_at     timestamptz NOT NULL,
  version           bigint NOT NULL,
  UNIQUE (sha256, crawl_job_id)
);
CREATE INDEX ix_image_crawl_job_id ON images (crawl_job_id);

CREATE TABLE activity_logs (
  id             serial PRIMARY KEY,
  user_id        uuid CONSTRAINT fk_activity_logs_user_id REFERENCES profiles (id) ON DELETE SET NULL,
  action         text NOT NULL,
  resource_type  varchar(50),
  resource_id    varchar(50),
  metadata_      jsonb,
  "timestamp"    timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  event_id       uuid NOT NULL UNIQUE,
  stream_id      text NOT NULL,
  actor          text NOT NULL,
  correlation_id text
);
CREATE INDEX ix_activity_log_user_id ON activity_logs (user_id);
CREATE INDEX ix_activity_log_timestamp ON activity_logs ("timestamp");

CREATE TABLE validation_jobs (
  id               serial PRIMARY KEY,
  crawl_job_id     integer NOT NULL CONSTRAINT fk_validation_jobs_crawl_job_id REFERENCES crawl_jobs (id) ON DELETE CASCADE,
  name             varchar(100) NOT NULL,
  status           varchar(20) NOT NULL DEFAULT 'pending',
  progress         integer NOT NULL DEFAULT 0,
  total_images     integer NOT NULL DEFAULT 0,
  validated_images integer NOT NULL DEFAULT 0,
  invalid_images   integer NOT NULL DEFAULT 0,
  validation_rules jsonb NOT NULL DEFAULT '{}',
  started_at       timestamptz,
  completed_at     timestamptz,
  error_message    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  job_id           uuid NOT NULL UNIQUE,
  requested_by     text,
  version          bigint NOT NULL
);
CREATE INDEX ix_validation_job_status ON validation_jobs (status);
CREATE INDEX ix_validation_job_crawl_job_id ON validation_jobs (crawl_job_id);

CREATE TABLE export_jobs (
  id              serial PRIMARY KEY,
  crawl_job_id    integer NOT NULL CONSTRAINT fk_export_jobs_crawl_job_id REFERENCES crawl_jobs (id) ON DELETE CASCADE,
  user_id         uuid NOT NULL CONSTRAINT fk_export_jobs_user_id REFERENCES profiles (id) ON DELETE CASCADE,
  name            varchar(100) NOT NULL,
  status          varchar(20) NOT NULL DEFAULT 'pending',
  progress        integer NOT NULL DEFAULT 0,
  format          varchar(20) NOT NULL DEFAULT 'zip',
  total_images    integer NOT NULL DEFAULT 0,
  exported_images integer NOT NULL DEFAULT 0,
  file_size       integer,
  download_url    text,
  export_options  jsonb NOT NULL DEFAULT '{}',
  started_at      timestamptz,
  completed_at    timestamptz,
  expires_at      timestamptz,
  error_message   text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  job_id          uuid NOT NULL UNIQUE,
  requested_by    text,
  version         bigint NOT NULL
);
CREATE INDEX ix_export_job_status ON export_jobs (status);
CREATE INDEX ix_export_job_user_id ON export_jobs (user_id);
CREATE INDEX ix_export_job_crawl_job_id ON export_jobs (crawl_job_id);
)~";

// Handlers take: $1 the stream id's key (after the first '-'), $2 payload
// (jsonb), $3 stream version, $4 recorded_at (timestamptz text), $5 event type.
struct Handler {
  std::string_view event_type;
  std::string_view sql;
};

// --- profiles ---

// The identity provider says this user now has this email: a profile that
// held it before gives it up (its email becomes "<id>@unknown"), so the
// UNIQUE email never stops the projector.
inline constexpr std::string_view kReleaseEmail = R"~(
UPDATE profiles SET email = id::text || '@unknown', updated_at = $4
WHERE email = left(nullif($2->>'email', ''), 255) AND id IS DISTINCT FROM px_uuid($1) AND px_uuid($1) IS NOT NULL)~";

// An email still held by another profile after kReleaseEmail (only a
// synthetic "<id>@unknown" can be) is not taken: the profile keeps its own.
inline constexpr std::string_view kUserSeen = R"~(
INSERT INTO profiles (id, email, full_name, avatar_url, role, created_at, updated_at, subject, issuer, placeholder, version)
SELECT k.u, coalesce(e.email, k.u::text || '@unknown'), left(nullif($2->>'full_name', ''), 100),
       nullif($2->>'avatar_url', ''), coalesce(left(nullif($2->>'role', ''), 20), 'user'), $4, $4,
       nullif($2->>'subject', ''), nullif($2->>'issuer', ''), false, $3
FROM (SELECT px_uuid($1) AS u) k,
     LATERAL (SELECT left(nullif($2->>'email', ''), 255) AS email) n,
     LATERAL (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM profiles o WHERE o.email = n.email AND o.id <> k.u)
                          THEN n.email END AS email) e
WHERE k.u IS NOT NULL
ON CONFLICT (id) DO UPDATE SET
  email = CASE WHEN excluded.email = profiles.id::text || '@unknown' THEN profiles.email ELSE excluded.email END,
  full_name = excluded.full_name, avatar_url = excluded.avatar_url, role = excluded.role,
  subject = excluded.subject, issuer = excluded.issuer, placeholder = false, version = excluded.version,
  updated_at = excluded.updated_at)~";

// --- projects ---

// An owner not seen yet gets a placeholder profile, filled in by its first UserSeen.
inline constexpr std::string_view kOwnerPlaceholder = R"~(
INSERT INTO profiles (id, email, created_at, updated_at, placeholder)
SELECT o.u, o.u::text || '@unknown', $4, $4, true FROM (SELECT px_uuid($2->>'owner_user_id') AS u) o
WHERE o.u IS NOT NULL
ON CONFLICT DO NOTHING)~";

inline constexpr std::string_view kProjectCreated = R"~(
INSERT INTO projects (id, name, description, user_id, status, created_at, updated_at, stream_key, version)
SELECT (SELECT coalesce(max(id), 0) + 1 FROM projects), left(coalesce(nullif($2->>'name', ''), 'Untitled project'), 100),
       nullif($2->>'description', ''), p.id, 'active', $4, $4, $1, $3
FROM profiles p WHERE p.id = px_uuid($2->>'owner_user_id')
ON CONFLICT (stream_key) DO NOTHING)~";

inline constexpr std::string_view kProjectRenamed = R"~(
UPDATE projects SET name = left(coalesce(nullif($2->>'name', ''), name), 100), version = $3, updated_at = $4
WHERE stream_key = $1)~";

inline constexpr std::string_view kProjectArchived = R"~(
UPDATE projects SET status = 'archived', version = $3, updated_at = $4 WHERE stream_key = $1)~";

// --- jobs: JobRequested decides which table (if any) a job belongs to ---

// An export's requester not seen yet gets a placeholder profile (as project owners do).
inline constexpr std::string_view kExportRequesterPlaceholder = R"~(
INSERT INTO profiles (id, email, created_at, updated_at, placeholder)
SELECT r.u, r.u::text || '@unknown', $4, $4, true FROM (SELECT px_actor_user($2->>'requested_by') AS u) r
WHERE r.u IS NOT NULL AND $2->>'job_type' = 'EXPORT_DATASET' AND coalesce($2->>'parent_job_id', '') = ''
  AND px_uuid($1) IS NOT NULL
  AND EXISTS (SELECT 1 FROM crawl_jobs c WHERE c.job_id = px_uuid($2->'payload'->>'crawl_job_id'))
ON CONFLICT DO NOTHING)~";

inline constexpr std::string_view kCrawlJobRequested = R"~(
INSERT INTO crawl_jobs (id, project_id, name, keywords, max_images, status, created_at, updated_at, job_id,
                        requested_by, version)
SELECT (SELECT coalesce(max(id), 0) + 1 FROM crawl_jobs), p.id,
       left(coalesce(nullif(x.j->>'name', ''), nullif(x.j->>'url', ''), 'Crawl ' || $1), 100),
       CASE WHEN jsonb_typeof(x.j->'keywords') = 'array' THEN x.j->'keywords'
            WHEN jsonb_typeof(x.j->'queries') = 'array' THEN x.j->'queries'
            ELSE '[]' END,
       coalesce(px_int(x.j->>'max_images'), 1000), 'pending', $4, $4, px_uuid($1), nullif($2->>'requested_by', ''), $3
FROM (SELECT coalesce($2->'payload', '{}') AS j) x
JOIN projects p ON p.stream_key = $2->>'project_id'
WHERE $2->>'job_type' = 'SCRAPE_URL' AND coalesce($2->>'parent_job_id', '') = '' AND px_uuid($1) IS NOT NULL
ON CONFLICT (job_id) DO NOTHING)~";

inline constexpr std::string_view kValidationJobRequested = R"~(
INSERT INTO validation_jobs (id, crawl_job_id, name, status, validation_rules, created_at, updated_at, job_id,
                             requested_by, version)
SELECT (SELECT coalesce(max(id), 0) + 1 FROM validation_jobs), c.id,
       left(coalesce(nullif(x.j->>'name', ''), 'Validation of ' || c.name), 100), 'pending',
       CASE WHEN jsonb_typeof(x.j->'validation_rules') = 'object' THEN x.j->'validation_rules' ELSE '{}' END,
       $4, $4, px_uuid($1), nullif($2->>'requested_by', ''), $3
FROM (SELECT coalesce($2->'payload', '{}') AS j) x
JOIN crawl_jobs c ON c.job_id = px_uuid(x.j->>'crawl_job_id')
WHERE $2->>'job_type' = 'VALIDATE_IMAGES' AND coalesce($2->>'parent_job_id', '') = '' AND px_uuid($1) IS NOT NULL
ON CONFLICT (job_id) DO NOTHING)~";

// user_id: the requesting user ("user:<uuid>"), else (an API key, the
// system) the owner of the crawl job's project.
inline constexpr std::string_view kExportJobRequested = R"~(
INSERT INTO export_jobs (id, crawl_job_id, user_id, name, status, format, export_options, created_at, updated_at,
                         job_id, requested_by, version)
SELECT (SELECT coalesce(max(id), 0) + 1 FROM export_jobs), c.id,
       coalesce((SELECT u.id FROM profiles u WHERE u.id = px_actor_user($2->>'requested_by')), p.user_id),
       left(coalesce(nullif(x.j->>'name', ''), 'Export of ' || c.name), 100), 'pending',
       left(coalesce(nullif(x.j->>'format', ''), 'zip'), 20),
       CASE WHEN jsonb_typeof(x.j->'export_options') = 'object' THEN x.j->'export_options' ELSE '{}' END,
       $4, $4, px_uuid($1), nullif($2->>'requested_by', ''), $3
FROM (SELECT coalesce($2->'payload', '{}') AS j) x
JOIN crawl_jobs c ON c.job_id = px_uuid(x.j->>'crawl_job_id')
JOIN projects p ON p.id = c.project_id
WHERE $2->>'job_type' = 'EXPORT_DATASET' AND coalesce($2->>'parent_job_id', '') = '' AND px_uuid($1) IS NOT NULL
ON CONFLICT (job_id) DO NOTHING)~";

// A child of a crawl job, whatever its type, is one of its chunks.
inline constexpr std::string_view kChunkRequested = R"~(
INSERT INTO job_chunks (id, job_id, chunk_job_id, chunk_index, status, created_at, updated_at, version)
SELECT (SELECT coalesce(max(id), 0) + 1 FROM job_chunks), c.id, px_uuid($1),
       (SELECT count(*) + 1 FROM job_chunks k WHERE k.job_id = c.id), 'pending', $4, $4, $3
FROM crawl_jobs c
WHERE c.job_id = px_uuid($2->>'parent_job_id') AND px_uuid($1) IS NOT NULL
ON CONFLICT (chunk_job_id) DO NOTHING)~";

// --- jobs: every later event of a job-{uuid} stream ---

// The lifecycle (docs/read-models.md, "Job lifecycle"), computed once in `ev`
// and applied to whichever of the four tables holds the job (at most one).
// NULL in `ev` means "unchanged". Counters: JobProgressed.counters, or the
// scalar fields of JobCompleted.result.
inline constexpr std::string_view kJobEvent = R"~(
WITH ev AS (
  SELECT px_uuid($1) AS id,
         CASE $5 WHEN 'JobStarted' THEN 'running'
                 WHEN 'JobCompleted' THEN 'completed'
                 WHEN 'JobFailed' THEN CASE WHEN $2->>'final' = 'true' THEN 'failed' ELSE 'pending' END
                 WHEN 'JobTimedOut' THEN 'pending'
                 WHEN 'JobRetryScheduled' THEN 'pending'
                 WHEN 'JobCancelled' THEN 'cancelled' END AS status,
         $5 IN ('JobCompleted', 'JobCancelled') OR ($5 = 'JobFailed' AND $2->>'final' = 'true') AS finished,
         CASE $5 WHEN 'JobFailed' THEN coalesce(nullif($2->>'error', ''), 'failed')
                 WHEN 'JobTimedOut' THEN 'timed out: ' || coalesce(nullif($2->>'kind', ''), 'unknown')
                 WHEN 'JobCancelled' THEN coalesce(nullif($2->>'reason', ''), 'cancelled') END AS error,
         CASE $5 WHEN 'JobProgressed' THEN least(greatest(px_int($2->>'progress'), 0), 100)
                 WHEN 'JobCompleted' THEN 100 END AS progress,
         coalesce((SELECT jsonb_object_agg(e.key, e.value)
                   FROM jsonb_each(CASE WHEN $5 = 'JobProgressed' AND jsonb_typeof($2->'counters') = 'object'
                                        THEN $2->'counters'
                                        WHEN $5 = 'JobCompleted' AND jsonb_typeof($2->'result') = 'object'
                                        THEN $2->'result'
                                        ELSE '{}' END) e
                   WHERE jsonb_typeof(e.value) IN ('number', 'string')), '{}') AS c,
         CASE WHEN $5 = 'JobChildrenPlanned'
              THEN greatest(coalesce(px_int($2->>'total'), 0),
                            CASE WHEN jsonb_typeof($2->'child_job_ids') = 'array'
                                 THEN jsonb_array_length($2->'child_job_ids') ELSE 0 END)
              ELSE 0 END AS planned
), crawl AS (
  UPDATE crawl_jobs t SET
    status = coalesce(ev.status, t.status),
    started_at = CASE WHEN $5 = 'JobStarted' THEN coalesce(t.started_at, $4) ELSE t.started_at END,
    completed_at = CASE WHEN ev.finished THEN $4 WHEN $5 = 'JobRetryScheduled' THEN NULL ELSE t.completed_at END,
    error_message = CASE WHEN $5 = 'JobCompleted' THEN NULL ELSE coalesce(ev.error, t.error_message) END,
    reported_progress = coalesce(ev.progress, t.reported_progress),
    counters = t.counters || ev.c,
    planned_chunks = greatest(t.planned_chunks, ev.planned),
    version = $3, updated_at = $4
  FROM ev WHERE t.job_id = ev.id
), chunk AS (
  UPDATE job_chunks t SET
    status = coalesce(ev.status, t.status),
    started_at = CASE WHEN $5 = 'JobStarted' THEN coalesce(t.started_at, $4) ELSE t.started_at END,
    completed_at = CASE WHEN ev.finished THEN $4 WHEN $5 = 'JobRetryScheduled' THEN NULL ELSE t.completed_at END,
    error_message = CASE WHEN $5 = 'JobCompleted' THEN NULL ELSE coalesce(ev.error, t.error_message) END,
    progress = coalesce(ev.progress, t.progress),
    images_found = coalesce(px_int(ev.c->>'images_found'), t.images_found),
    images_downloaded = coalesce(px_int(ev.c->>'images_downloaded'), t.images_downloaded),
    images_valid = coalesce(px_int(ev.c->>'images_valid'), t.images_valid),
    version = $3, updated_at = $4
  FROM ev WHERE t.chunk_job_id = ev.id
), validation AS (
  UPDATE validation_jobs t SET
    status = coalesce(ev.status, t.status),
    started_at = CASE WHEN $5 = 'JobStarted' THEN coalesce(t.started_at, $4) ELSE t.started_at END,
    completed_at = CASE WHEN ev.finished THEN $4 WHEN $5 = 'JobRetryScheduled' THEN NULL ELSE t.completed_at END,
    error_message = CASE WHEN $5 = 'JobCompleted' THEN NULL ELSE coalesce(ev.error, t.error_message) END,
    progress = coalesce(ev.progress, t.progress),
    total_images = coalesce(px_int(ev.c->>'images_total'), t.total_images),
    validated_images = coalesce(px_int(ev.c->>'images_valid'), t.validated_images),
    invalid_images = coalesce(px_int(ev.c->>'images_invalid'), t.invalid_images),
    version = $3, updated_at = $4
  FROM ev WHERE t.job_id = ev.id
)
UPDATE export_jobs t SET
  status = coalesce(ev.status, t.status),
  started_at = CASE WHEN $5 = 'JobStarted' THEN coalesce(t.started_at, $4) ELSE t.started_at END,
  completed_at = CASE WHEN ev.finished THEN $4 WHEN $5 = 'JobRetryScheduled' THEN NULL ELSE t.completed_at END,
  error_message = CASE WHEN $5 = 'JobCompleted' THEN NULL ELSE coalesce(ev.error, t.error_message) END,
  progress = coalesce(ev.progress, t.progress),
  total_images = coalesce(px_int(ev.c->>'images_total'), t.total_images),
  exported_images = coalesce(px_int(ev.c->>'images_exported'), t.exported_images),
  file_size = coalesce(px_int($2->'result'->>'file_size'), t.file_size),
  download_url = coalesce(nullif($2->'result'->>'download_url', ''), t.download_url),
  expires_at = coalesce(px_us($2->'result'->>'expires_at_us'), t.expires_at),
  version = $3, updated_at = $4
FROM ev WHERE t.job_id = ev.id)~";

// Recomputes the crawl job's aggregates — its own or its chunk's event —
// from its own counters and its chunks; touches the row only if they changed.
inline constexpr std::string_view kRefreshCrawlJob = R"~(
WITH target AS (
  SELECT id FROM crawl_jobs WHERE job_id = px_uuid($1)
  UNION ALL
  SELECT job_id FROM job_chunks WHERE chunk_job_id = px_uuid($1)
), agg AS (
  SELECT c.id, c.reported_progress,
         greatest(c.planned_chunks, count(k.id))::integer AS total_chunks,
         (count(k.id) FILTER (WHERE k.status = 'running'))::integer AS active_chunks,
         (count(k.id) FILTER (WHERE k.status = 'completed'))::integer AS completed_chunks,
         (count(k.id) FILTER (WHERE k.status = 'failed'))::integer AS failed_chunks,
         (count(k.id) FILTER (WHERE k.status IN ('completed', 'failed', 'cancelled')))::integer AS finished_chunks,
         coalesce(jsonb_agg(k.chunk_job_id ORDER BY k.chunk_index) FILTER (WHERE k.id IS NOT NULL), '[]') AS task_ids,
         least(greatest(coalesce(px_int(c.counters->>'images_found'), 0), coalesce(sum(k.images_found), 0)),
               2147483647)::integer AS total_images,
         least(greatest(coalesce(px_int(c.counters->>'images_downloaded'), 0), coalesce(sum(k.images_downloaded), 0)),
               2147483647)::integer AS downloaded_images,
         least(greatest(coalesce(px_int(c.counters->>'images_valid'), 0), coalesce(sum(k.images_valid), 0)),
               2147483647)::integer AS valid_images
  FROM crawl_jobs c LEFT JOIN job_chunks k ON k.job_id = c.id
  WHERE c.id = (SELECT id FROM target LIMIT 1)
  GROUP BY c.id
), next AS (
  SELECT id, total_chunks, active_chunks, completed_chunks, failed_chunks, task_ids, total_images, downloaded_images,
         valid_images,
         CASE WHEN total_chunks > 0 THEN greatest(reported_progress, (100 * finished_chunks) / total_chunks)
              ELSE reported_progress END AS progress
  FROM agg
)
UPDATE crawl_jobs c SET
  total_chunks = n.total_chunks, active_chunks = n.active_chunks, completed_chunks = n.completed_chunks,
  failed_chunks = n.failed_chunks, task_ids = n.task_ids, total_images = n.total_images,
  downloaded_images = n.downloaded_images, valid_images = n.valid_images, progress = n.progress, updated_at = $4
FROM next n
WHERE c.id = n.id
  AND (c.total_chunks, c.active_chunks, c.completed_chunks, c.failed_chunks, c.task_ids, c.total_images,
       c.downloaded_images, c.valid_images, c.progress)
      IS DISTINCT FROM (n.total_chunks, n.active_chunks, n.completed_chunks, n.failed_chunks, n.task_ids,
                        n.total_images, n.downloaded_images, n.valid_images, n.progress))~";

// --- images ---

// crawl_job_id names the crawl job or one of its chunks; unknown: no row.
inline constexpr std::string_view kImageDownloaded = R"~(
INSERT INTO images (id, crawl_job_id, original_url, filename, storage_url, width, height, file_size, format, sha256,
                    page_url, downloaded_at, version)
SELECT (SELECT coalesce(max(id), 0) + 1 FROM images), c.id, coalesce($2->>'url', ''),
       px_filename($2->>'url', $1, $2->>'format'), nullif($2->>'storage_key', ''), px_int($2->>'width'),
       px_int($2->>'height'), px_int($2->>'file_size'), left(nullif($2->>'format', ''), 10), $1,
       nullif($2->>'page_url', ''), $4, $3
FROM (SELECT coalesce((SELECT id FROM crawl_jobs WHERE job_id = px_uuid($2->>'crawl_job_id')),
                      (SELECT job_id FROM job_chunks WHERE chunk_job_id = px_uuid($2->>'crawl_job_id'))) AS id) c
WHERE c.id IS NOT NULL
ON CONFLICT (sha256, crawl_job_id) DO NOTHING)~";

inline constexpr std::string_view kImageValidated = R"~(
UPDATE images SET validation_status = 'valid', rejected_rule = NULL, version = $3 WHERE sha256 = $1)~";

inline constexpr std::string_view kImageRejected = R"~(
UPDATE images SET validation_status = 'rejected', rejected_rule = coalesce(nullif($2->>'rule', ''), 'unknown'),
  version = $3
WHERE sha256 = $1)~";

// --- activity_logs: every event whose actor is "user:<uuid>" ---
// $1 event id, $2 the actor's user uuid, $3 event type, $4 stream category,
// $5 stream key, $6 stream id, $7 payload, $8 metadata, $9 recorded_at.
inline constexpr std::string_view kActivity = R"~(
WITH px_args AS (SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::jsonb, $9::timestamptz)
INSERT INTO activity_logs (id, user_id, action, resource_type, resource_id, metadata_, "timestamp", event_id, stream_id,
                           actor, correlation_id)
SELECT coalesce(max(a.id), 0) + 1, (SELECT p.id FROM profiles p WHERE p.id = $2::uuid), $3, left($4, 50), left($5, 50),
       $7, $9, $1::uuid, $6, $8->>'actor', nullif($8->>'correlation_id', '')
FROM activity_logs a
ON CONFLICT (event_id) DO NOTHING)~";

inline constexpr std::string_view kActivityStatement = "pixcrawler_activity";

// The events of a job stream after its JobRequested.
inline constexpr std::string_view kJobEventTypes[] = {
    "JobStarted",        "JobLeaseRenewed", "JobProgressed",      "JobCompleted", "JobFailed",
    "JobTimedOut",       "JobRetryScheduled", "JobCancelRequested", "JobCancelled", "JobChildrenPlanned"};

// Every handler, in the order its statements run for an event.
const std::vector<Handler>& Handlers() {
  static const auto* handlers = [] {
    auto* h = new std::vector<Handler>{
        {"UserSeen", kReleaseEmail},
        {"UserSeen", kUserSeen},
        {"ProjectCreated", kOwnerPlaceholder},
        {"ProjectCreated", kProjectCreated},
        {"ProjectRenamed", kProjectRenamed},
        {"ProjectArchived", kProjectArchived},
        {"JobRequested", kExportRequesterPlaceholder},
        {"JobRequested", kCrawlJobRequested},
        {"JobRequested", kValidationJobRequested},
        {"JobRequested", kExportJobRequested},
        {"JobRequested", kChunkRequested},
        {"JobRequested", kRefreshCrawlJob},
        {"ImageDownloaded", kImageDownloaded},
        {"ImageValidated", kImageValidated},
        {"ImageRejected", kImageRejected},
    };
    for (auto type : kJobEventTypes) {
      h->push_back({type, kJobEvent});
      // Heartbeats and cancel requests change no status, counter or progress.
      if (type != "JobLeaseRenewed" && type != "JobCancelRequested") h->push_back({type, kRefreshCrawlJob});
    }
    return h;
  }();
  return *handlers;
}

// Prefixes a handler with a CTE that gives the five parameters their types.
std::string Typed(std::string_view sql) {
  constexpr std::string_view kArgs =
      "WITH px_args AS (SELECT $1::text, $2::jsonb, $3::bigint, $4::timestamptz, $5::text)";
  std::string_view body = sql.substr(sql.find_first_not_of(" \n"));
  if (body.starts_with("WITH ")) return std::string(kArgs) + ", " + std::string(body.substr(5));
  return std::string(kArgs) + "\n" + std::string(body);
}

std::string StatementName(std::string_view type, int index) {
  return "pixcrawler_" + std::string(type) + "_" + std::to_string(index);
}

// Statement names per event type, in order.
const std::map<std::string, std::vector<std::string>, std::less<>>& StatementsByType() {
  static const auto* by_type = [] {
    auto* m = new std::map<std::string, std::vector<std::string>, std::less<>>();
    for (const auto& h : Handlers()) {
      auto& names = (*m)[std::string(h.event_type)];
      names.push_back(StatementName(h.event_type, static_cast<int>(names.size())));
    }
    return m;
  }();
  return *by_type;
}

// "image-<sha256>" -> "<sha256>"
std::string StreamKey(const std::string& stream_id) { return stream_id.substr(stream_id.find('-') + 1); }

// The user uuid of a "user:<uuid>" actor; nothing for other actors.
std::optional<std::string> ActorUser(const std::string& metadata_json) {
  boost::system::error_code ec;
  auto md = boost::json::parse(metadata_json, ec);
  if (ec || !md.is_object()) return std::nullopt;
  const auto* actor = md.as_object().if_contains("actor");
  if (actor == nullptr || !actor->is_string()) return std::nullopt;
  std::string_view a = actor->as_string();
  if (!a.starts_with("user:") || !base::IsUuid(a.substr(5))) return std::nullopt;
  return std::string(a.substr(5));
}

}  // namespace

events::ReadFilter PixCrawlerProjection::filter() const { return {}; }  // every category: activity_logs

std::vector<std::string> PixCrawlerProjection::tables() const {
  return {"profiles", "projects", "crawl_jobs", "job_chunks", "images", "activity_logs", "validation_jobs", "export_jobs"};
}

std::string PixCrawlerProjection::schema_sql() const { return std::string(kSchema); }

std::vector<PreparedStatement> PixCrawlerProjection::statements() const {
  std::vector<PreparedStatement> out;
  std::map<std::string_view, int> seen;
  for (const auto& h : Handlers()) out.push_back({StatementName(h.event_type, seen[h.event_type]++), Typed(h.sql)});
  out.push_back({std::string(kActivityStatement), std::string(kActivity)});
  return out;
}

void PixCrawlerProjection::Plan(const events::RecordedEvent& e, std::vector<SqlCall>& calls) const {
  const std::string key = StreamKey(e.stream_id);
  if (auto it = StatementsByType().find(e.type); it != StatementsByType().end()) {
    const std::vector<std::string> params{key, e.payload_json, std::to_string(e.stream_version), e.recorded_at, e.type};
    for (const auto& statement : it->second) calls.push_back({statement, params});
  }
  // After the event's own statements, so a UserSeen's activity row finds its profile.
  if (auto user = ActorUser(e.metadata_json))
    calls.push_back({kActivityStatement,
                     {e.event_id, *user, e.type, e.category, key, e.stream_id, e.payload_json, e.metadata_json,
                      e.recorded_at}});
}

}  // namespace furrsight::projections
