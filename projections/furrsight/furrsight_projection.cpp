#include "projections/furrsight/furrsight_projection.hpp"

#include <map>
#include <stdexcept>


namespace furrsight::projections {
namespace {

inline constexpr std::string_view kSchema = R"~(
CREATE TABLE jobs (
  id               uuid PRIMARY KEY,
  job_type         varchar(50) NOT NULL,
  status           varchar(20) NOT NULL DEFAULT 'PENDING',
  payload          jsonb,
  result           jsonb,
  error_message    text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  completed_at     timestamptz,
  -- beyond the seed
  priority         integer NOT NULL DEFAULT 0,
  attempt          integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 1,
  progress         integer NOT NULL DEFAULT 0,
  counters         jsonb NOT NULL DEFAULT '{}',
  worker           text,
  lease_expires_at timestamptz,
  not_before       timestamptz,
  cancel_requested boolean NOT NULL DEFAULT false,
  parent_job_id    uuid,
  project_id       text,
  idempotency_key  text,
  requested_by     text,
  total_chunks     integer NOT NULL DEFAULT 0,
  version          bigint NOT NULL,
  updated_at       timestamptz NOT NULL,
  -- version 2: what the scheduler and the job coordinator read
  lease_ms                     bigint NOT NULL DEFAULT 0,
  schedule_to_start_timeout_ms bigint NOT NULL DEFAULT 0,
  start_to_close_timeout_ms    bigint NOT NULL DEFAULT 0,
  attempt_started_at           timestamptz,
  completed_chunks             integer NOT NULL DEFAULT 0,
  failed_chunks                integer NOT NULL DEFAULT 0,
  cancelled_chunks             integer NOT NULL DEFAULT 0
);
CREATE INDEX jobs_status_type ON jobs (status, job_type);
CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE status = 'IN_PROGRESS';
CREATE INDEX jobs_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
CREATE INDEX jobs_created ON jobs (created_at, id);

CREATE TABLE dog_breeds (
  id         serial PRIMARY KEY,
  name       varchar(100) NOT NULL UNIQUE,
  -- beyond the seed
  slug       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);

CREATE TABLE grooming_services (
  id           serial PRIMARY KEY,
  service_name varchar(100) NOT NULL UNIQUE,
  description  text,
  -- beyond the seed
  slug         text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL
);

CREATE TABLE grooming_pairs (
  id                  uuid PRIMARY KEY,
  before_image_url    text NOT NULL,
  after_image_url     text NOT NULL,
  source_url          text,
  status              varchar(20) NOT NULL DEFAULT 'UNVERIFIED',
  dog_breed_id        integer REFERENCES dog_breeds (id),
  notes               text,
  created_at          timestamptz NOT NULL DEFAULT now(),
  -- beyond the seed
  before_image_sha256 text,
  after_image_sha256  text,
  cue                 text,
  similarity          double precision,
  breed_set_by        text,
  services_set_by     text,
  analysed            boolean NOT NULL DEFAULT false,
  analysis            jsonb,
  confidence          double precision,
  reject_reason       text,
  version             bigint NOT NULL,
  updated_at          timestamptz NOT NULL
);
CREATE INDEX grooming_pairs_status ON grooming_pairs (status, created_at, id);
CREATE INDEX grooming_pairs_created ON grooming_pairs (created_at, id);
CREATE INDEX grooming_pairs_breed ON grooming_pairs (dog_breed_id);

CREATE TABLE pair_service_link (
  grooming_pair_id    uuid REFERENCES grooming_pairs (id),
  grooming_service_id integer REFERENCES grooming_services (id),
  PRIMARY KEY (grooming_pair_id, grooming_service_id)
);

-- version 3: API keys (docs/auth.md); only the SHA-256 of each secret
CREATE TABLE api_keys (
  key_id        text PRIMARY KEY,
  prefix        text NOT NULL,
  name          text NOT NULL,
  key_hash      text NOT NULL,
  roles         text[] NOT NULL DEFAULT '{}',
  user_id       text,
  issued_by     text,
  issued_at     timestamptz NOT NULL,
  revoked_at    timestamptz,
  revoked_by    text,
  revoke_reason text,
  expires_at    timestamptz,  -- version 5: null = never
  version       bigint NOT NULL,
  updated_at    timestamptz NOT NULL
);
)~";

// Every handler takes: $1 stream id's uuid/slug part, $2 payload (jsonb),
// $3 stream version, $4 recorded_at (timestamptz text); Typed() declares
// all four, so a handler may leave some unused.
struct Handler {
  std::string_view statement;  // the event type
  std::string_view sql;
};

inline constexpr Handler kHandlers[] = {
    // --- jobs ---
    {"JobRequested", R"~(
INSERT INTO jobs (id, job_type, status, payload, created_at, priority, max_attempts, parent_job_id, project_id,
                  idempotency_key, requested_by, version, updated_at, lease_ms, schedule_to_start_timeout_ms,
                  start_to_close_timeout_ms)
VALUES ($1::uuid, $2::jsonb->>'job_type', 'PENDING', coalesce($2::jsonb->'payload', '{}'), $4::timestamptz,
        coalesce(($2::jsonb->>'priority')::int, 0), greatest(coalesce(($2::jsonb->>'max_attempts')::int, 1), 1),
        nullif($2::jsonb->>'parent_job_id', '')::uuid, $2::jsonb->>'project_id', $2::jsonb->>'idempotency_key',
        $2::jsonb->>'requested_by', $3, $4::timestamptz, coalesce(($2::jsonb->>'lease_ms')::bigint, 0),
        coalesce(($2::jsonb->>'schedule_to_start_timeout_ms')::bigint, 0),
        coalesce(($2::jsonb->>'start_to_close_timeout_ms')::bigint, 0))
ON CONFLICT (id) DO NOTHING)~"},
    {"JobStarted", R"~(
UPDATE jobs SET status = 'IN_PROGRESS', started_at = coalesce(started_at, $4::timestamptz), attempt_started_at = $4::timestamptz,
  attempt = coalesce(($2::jsonb->>'attempt')::int, attempt + 1), worker = $2::jsonb->>'worker',
  lease_expires_at = to_timestamp((($2::jsonb->>'lease_expires_at_us')::bigint) / 1000000.0),
  version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobLeaseRenewed", R"~(
UPDATE jobs SET lease_expires_at = to_timestamp((($2::jsonb->>'lease_expires_at_us')::bigint) / 1000000.0),
  version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobProgressed", R"~(
UPDATE jobs SET progress = least(greatest(coalesce(($2::jsonb->>'progress')::int, progress), 0), 100),
  counters = counters || coalesce($2::jsonb->'counters', '{}'), version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobCompleted", R"~(
UPDATE jobs SET status = 'COMPLETED', progress = 100, result = coalesce($2::jsonb->'result', '{}'),
  completed_at = $4::timestamptz, worker = NULL, lease_expires_at = NULL, version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobFailed", R"~(
UPDATE jobs SET status = CASE WHEN coalesce(($2::jsonb->>'final')::boolean, false) THEN 'FAILED' ELSE 'WAITING_RETRY' END,
  error_message = $2::jsonb->>'error',
  completed_at = CASE WHEN coalesce(($2::jsonb->>'final')::boolean, false) THEN $4::timestamptz END,
  worker = NULL, lease_expires_at = NULL, version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobTimedOut", R"~(
UPDATE jobs SET status = 'WAITING_RETRY', error_message = 'timed out: ' || coalesce($2::jsonb->>'kind', ''),
  worker = NULL, lease_expires_at = NULL, version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobRetryScheduled", R"~(
UPDATE jobs SET status = 'WAITING_RETRY',
  not_before = to_timestamp((($2::jsonb->>'not_before_us')::bigint) / 1000000.0), completed_at = NULL,
  version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobCancelRequested", R"~(
UPDATE jobs SET cancel_requested = true, version = $3, updated_at = $4::timestamptz WHERE id = $1::uuid)~"},
    {"JobCancelled", R"~(
UPDATE jobs SET status = 'CANCELLED', error_message = nullif($2::jsonb->>'reason', ''), completed_at = $4::timestamptz,
  worker = NULL, lease_expires_at = NULL, version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobChildrenPlanned", R"~(
UPDATE jobs SET status = 'WAITING_CHILDREN', total_chunks = greatest(total_chunks, coalesce(($2::jsonb->>'total')::int, 0)),
  worker = NULL, lease_expires_at = NULL, version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"JobChildFinished", R"~(
UPDATE jobs SET completed_chunks = completed_chunks + (($2::jsonb->>'status') = 'COMPLETED')::int,
  failed_chunks = failed_chunks + (($2::jsonb->>'status') = 'FAILED')::int,
  cancelled_chunks = cancelled_chunks + (($2::jsonb->>'status') = 'CANCELLED')::int,
  progress = CASE WHEN total_chunks > 0
                  THEN least(100, (100 * (completed_chunks + failed_chunks + cancelled_chunks + 1)) / total_chunks)
                  ELSE progress END,
  version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    // --- catalog: ids are assigned in log order, inside the transaction, so a rebuild gives the same ids ---
    {"BreedRegistered", R"~(
INSERT INTO dog_breeds (id, name, slug, created_at)
SELECT coalesce(max(id), 0) + 1, $2::jsonb->>'name', $1, $4::timestamptz FROM dog_breeds
ON CONFLICT DO NOTHING)~"},
    {"ServiceRegistered", R"~(
INSERT INTO grooming_services (id, service_name, description, slug, created_at)
SELECT coalesce(max(id), 0) + 1, $2::jsonb->>'name', nullif($2::jsonb->>'description', ''), $1, $4::timestamptz
FROM grooming_services
ON CONFLICT DO NOTHING)~"},
    // --- pairs ---
    {"PairProposed", R"~(
INSERT INTO grooming_pairs (id, before_image_url, after_image_url, source_url, status, created_at,
                            before_image_sha256, after_image_sha256, cue, similarity, version, updated_at)
VALUES ($1::uuid, $2::jsonb->>'before_image_url', $2::jsonb->>'after_image_url', nullif($2::jsonb->>'source_url', ''),
        'UNVERIFIED', $4::timestamptz, $2::jsonb->>'before_image_sha256', $2::jsonb->>'after_image_sha256',
        $2::jsonb->>'cue', ($2::jsonb->>'similarity')::double precision, $3, $4::timestamptz)
ON CONFLICT (id) DO NOTHING)~"},
    {"PairAnalyzed", R"~(
UPDATE grooming_pairs SET analysed = true, analysis = $2::jsonb - 'raw_answer',
  confidence = ($2::jsonb->>'confidence')::double precision,
  dog_breed_id = CASE WHEN breed_set_by = 'researcher' OR NOT coalesce(($2::jsonb->>'ok')::boolean, false)
                      THEN dog_breed_id
                      ELSE coalesce((SELECT b.id FROM dog_breeds b WHERE lower(b.name) = lower($2::jsonb->>'breed')),
                                    dog_breed_id) END,
  breed_set_by = CASE WHEN breed_set_by = 'researcher' THEN breed_set_by ELSE 'model' END,
  version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"PairAnalyzed", R"~(
INSERT INTO pair_service_link (grooming_pair_id, grooming_service_id)
SELECT $1::uuid, s.id FROM grooming_services s
WHERE coalesce(($2::jsonb->>'ok')::boolean, false)
  AND EXISTS (SELECT 1 FROM grooming_pairs p WHERE p.id = $1::uuid AND p.services_set_by IS DISTINCT FROM 'researcher')
  AND lower(s.service_name) IN (SELECT lower(x) FROM jsonb_array_elements_text(coalesce($2::jsonb->'services', '[]')) x)
ON CONFLICT DO NOTHING)~"},
    {"PairVerified", R"~(
UPDATE grooming_pairs SET status = 'VERIFIED', reject_reason = NULL, version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"PairRejected", R"~(
UPDATE grooming_pairs SET status = 'REJECTED', reject_reason = $2::jsonb->>'reason', version = $3,
  updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"PairNoteAdded", R"~(
UPDATE grooming_pairs SET notes = concat_ws(E'\n', notes, $2::jsonb->>'note'), version = $3,
  updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"PairBreedSet", R"~(
UPDATE grooming_pairs SET dog_breed_id = (SELECT b.id FROM dog_breeds b WHERE b.slug = $2::jsonb->>'breed_slug'),
  breed_set_by = 'researcher', version = $3, updated_at = $4::timestamptz
WHERE id = $1::uuid)~"},
    {"PairServicesSet", R"~(
DELETE FROM pair_service_link WHERE grooming_pair_id = $1::uuid)~"},
    {"PairServicesSet", R"~(
WITH pair AS (
  UPDATE grooming_pairs SET services_set_by = 'researcher', version = $3, updated_at = $4::timestamptz
  WHERE id = $1::uuid RETURNING id
)
INSERT INTO pair_service_link (grooming_pair_id, grooming_service_id)
SELECT p.id, s.id FROM pair p JOIN grooming_services s
  ON s.slug IN (SELECT jsonb_array_elements_text(coalesce($2::jsonb->'service_slugs', '[]')))
ON CONFLICT DO NOTHING)~"},
    // --- API keys: events written before roles/prefix existed carry one role and no prefix ---
    {"ApiKeyIssued", R"~(
INSERT INTO api_keys (key_id, prefix, name, key_hash, roles, user_id, issued_by, issued_at, expires_at, version,
                      updated_at)
VALUES ($1, coalesce(nullif($2::jsonb->>'prefix', ''), 'fs_' || $1 || '_'), coalesce($2::jsonb->>'name', ''),
        coalesce($2::jsonb->>'key_hash', ''),
        CASE WHEN jsonb_typeof($2::jsonb->'roles') = 'array'
             THEN ARRAY(SELECT jsonb_array_elements_text($2::jsonb->'roles'))
             ELSE array_remove(ARRAY[nullif($2::jsonb->>'role', '')], NULL) END,
        nullif($2::jsonb->>'user_id', ''), nullif($2::jsonb->>'actor', ''), $4::timestamptz,
        to_timestamp(nullif(coalesce($2::jsonb->>'expires_at_us', '0')::bigint, 0) / 1000000.0), $3, $4::timestamptz)
ON CONFLICT (key_id) DO NOTHING)~"},
    {"ApiKeyRevoked", R"~(
UPDATE api_keys SET revoked_at = coalesce(revoked_at, $4::timestamptz), revoked_by = nullif($2::jsonb->>'actor', ''),
  revoke_reason = nullif($2::jsonb->>'reason', ''), version = $3, updated_at = $4::timestamptz
WHERE key_id = $1)~"},
};

// Prefixes a handler with a CTE that gives the four parameters their types.
std::string Typed(std::string_view sql) {
  constexpr std::string_view kArgs = "WITH furrsight_args AS (SELECT $1::text, $2::jsonb, $3::bigint, $4::timestamptz)";
  size_t start = sql.find_first_not_of(" \n");
  std::string_view body = sql.substr(start);
  if (body.starts_with("WITH ")) return std::string(kArgs) + ", " + std::string(body.substr(5));
  return std::string(kArgs) + "\n" + std::string(body);
}

// A type may have several statements, run in the order listed.
std::string StatementName(std::string_view type, int index) {
  return "furrsight_" + std::string(type) + "_" + std::to_string(index);
}

// "pair-<uuid>" -> "<uuid>", "breed-shih-tzu" -> "shih-tzu"
std::string StreamKey(const std::string& stream_id) { return stream_id.substr(stream_id.find('-') + 1); }

// Statement names per event type, in order.
const std::map<std::string, std::vector<std::string>, std::less<>>& StatementsByType() {
  static const auto* by_type = [] {
    auto* m = new std::map<std::string, std::vector<std::string>, std::less<>>();
    for (const auto& h : kHandlers) {
      auto& names = (*m)[std::string(h.statement)];
      names.push_back(StatementName(h.statement, static_cast<int>(names.size())));
    }
    return m;
  }();
  return *by_type;
}

}  // namespace

events::ReadFilter FurrSightProjection::filter() const { return {{"job", "breed", "service", "pair", "apikey"}, {}}; }

std::vector<std::string> FurrSightProjection::tables() const {
  return {"jobs", "dog_breeds", "grooming_services", "grooming_pairs", "pair_service_link", "api_keys"};
}

std::string FurrSightProjection::schema_sql() const { return std::string(kSchema); }

std::vector<PreparedStatement> FurrSightProjection::statements() const {
  std::vector<PreparedStatement> out;
  std::map<std::string_view, int> seen;
  for (const auto& h : kHandlers) out.push_back({StatementName(h.statement, seen[h.statement]++), Typed(h.sql)});
  return out;
}

void FurrSightProjection::Plan(const events::RecordedEvent& e, std::vector<SqlCall>& calls) const {
  auto it = StatementsByType().find(e.type);
  if (it == StatementsByType().end()) return;  // an event type this model does not use
  const std::string key = StreamKey(e.stream_id);
  for (const auto& statement : it->second)
    calls.push_back({statement, {key, e.payload_json, std::to_string(e.stream_version), e.recorded_at}});
}

}  // namespace furrsight::projections
