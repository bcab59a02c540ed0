#include "orchestrator/queries/pair_queries.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>
#include <pqxx/pqxx>

#include "events/base/text.hpp"
#include "events/base/uuid.hpp"

namespace furrsight::orchestrator::queries {
namespace {

namespace json = boost::json;
using base::ErrorCode;
using base::Fail;

// Every filter is a text parameter; '' means "any" (nullif). $9/$10 the
// cursor's position, $11 the page size + 1 (to know whether more follow).
// {cmp} and {dir} are fixed by the order (never input).
inline constexpr std::string_view kListPairs = R"~(
SELECT p.id::text, p.status, p.version, coalesce(p.before_image_sha256, ''), coalesce(p.after_image_sha256, ''),
       p.before_image_url, p.after_image_url, coalesce(p.source_url, ''), coalesce(p.cue, ''),
       p.similarity, p.confidence, p.analysed, b.name, b.slug,
       coalesce(p.breed_set_by, ''), coalesce(p.services_set_by, ''), coalesce(p.reject_reason, ''),
       coalesce(p.notes, ''),
       to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
       (extract(epoch FROM p.created_at) * 1000000)::bigint,
       (SELECT coalesce(json_agg(s.service_name ORDER BY s.service_name), '[]') FROM pair_service_link l
        JOIN grooming_services s ON s.id = l.grooming_service_id WHERE l.grooming_pair_id = p.id)::text
FROM grooming_pairs p LEFT JOIN dog_breeds b ON b.id = p.dog_breed_id
WHERE (nullif($1, '') IS NULL OR p.status = $1)
  AND (nullif($2, '') IS NULL OR b.slug = $2)
  AND (nullif($3, '') IS NULL OR EXISTS (
        SELECT 1 FROM pair_service_link l JOIN grooming_services s ON s.id = l.grooming_service_id
        WHERE l.grooming_pair_id = p.id AND s.slug = $3))
  AND (nullif($4, '') IS NULL OR lower(substring(p.source_url FROM '^[A-Za-z]+://([^/:?#]+)')) = $4
       OR lower(substring(p.source_url FROM '^[A-Za-z]+://([^/:?#]+)')) LIKE '%.' || $4)
  AND (nullif($5, '') IS NULL OR p.analysed = $5::boolean)
  AND (nullif($6, '') IS NULL OR p.confidence >= $6::float8)
  AND (nullif($7, '') IS NULL OR p.confidence <= $7::float8)
  AND (nullif($8, '') IS NULL OR strpos(lower(coalesce(p.notes, '') || E'\n' || coalesce(p.analysis->>'notes', '')),
                                        lower($8)) > 0)
  AND (nullif($9, '') IS NULL OR (p.created_at, p.id) {cmp}
       ('epoch'::timestamptz + nullif($9, '')::bigint * interval '1 microsecond', nullif($10, '')::uuid))
ORDER BY p.created_at {dir}, p.id {dir}
LIMIT $11)~";

}  // namespace

std::string ListPairsSql(bool oldest_first) {
  std::string sql(kListPairs);
  auto put = [&](std::string_view key, std::string_view value) {
    for (auto at = sql.find(key); at != std::string::npos; at = sql.find(key)) sql.replace(at, key.size(), value);
  };
  put("{cmp}", oldest_first ? ">" : "<");
  put("{dir}", oldest_first ? "ASC" : "DESC");
  return sql;
}

namespace {

struct Cursor {
  std::string at_us, id;
};

std::optional<Cursor> ParseCursor(const std::string& text) {
  const auto sep = text.find('_');
  if (sep == std::string::npos || sep == 0) return std::nullopt;
  Cursor c{text.substr(0, sep), text.substr(sep + 1)};
  if (c.at_us.find_first_not_of("0123456789") != std::string::npos || c.at_us.size() > 18 || !base::IsUuid(c.id))
    return std::nullopt;
  return c;
}

std::string Number(std::optional<double> v) { return v ? fmt::format("{}", *v) : std::string(); }

json::value NullIfEmpty(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

}  // namespace

base::Result<void> Validate(const PairFilter& f) {
  if (!f.status.empty() && f.status != "UNVERIFIED" && f.status != "VERIFIED" && f.status != "REJECTED")
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("status '{}' is not UNVERIFIED, VERIFIED or REJECTED", f.status));
  if (f.limit < 1 || f.limit > kMaxPageSize)
    return Fail(ErrorCode::kInvalidArgument, fmt::format("limit {} is outside 1..{}", f.limit, kMaxPageSize));
  for (auto [name, v] : {std::pair{"min_confidence", f.min_confidence}, std::pair{"max_confidence", f.max_confidence}})
    if (v && !(*v >= 0.0 && *v <= 1.0))
      return Fail(ErrorCode::kInvalidArgument, fmt::format("{} must be between 0 and 1", name));
  if (!f.cursor.empty() && !ParseCursor(f.cursor))
    return Fail(ErrorCode::kInvalidArgument,
                "cursor is not one this API gave out; pass next_cursor from the previous page unchanged");
  if (f.text.size() > 200) return Fail(ErrorCode::kInvalidArgument, "text is longer than 200 bytes");
  return {};
}

base::Result<PairPage> ListPairs(events::PgPool& pool, const PairFilter& f) {
  if (auto ok = Validate(f); !ok) return std::unexpected(ok.error());
  static const std::string kNewestFirst = ListPairsSql(false), kOldestFirst = ListPairsSql(true);
  const Cursor cursor = f.cursor.empty() ? Cursor{} : *ParseCursor(f.cursor);
  auto lease = pool.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    const auto rows = tx.exec_params(f.oldest_first ? kOldestFirst : kNewestFirst, f.status, base::Slug(f.breed),
                                     base::Slug(f.service), base::Lower(base::Trim(f.source_domain)),
                                     f.analysed ? (*f.analysed ? "true" : "false") : "", Number(f.min_confidence),
                                     Number(f.max_confidence), f.text, cursor.at_us, cursor.id, f.limit + 1);
    PairPage page;
    int n = 0;
    for (const auto& r : rows) {
      if (++n > f.limit) {
        const auto& last = rows[static_cast<pqxx::result::size_type>(f.limit - 1)];
        page.next_cursor = fmt::format("{}_{}", last[20].as<std::int64_t>(), last[0].c_str());
        break;
      }
      auto image = [&](int sha, int url) {
        const std::string digest = r[sha].c_str();
        return json::object{{"sha256", digest},
                            {"url", digest.empty() ? std::string() : "/api/v1/images/" + digest},
                            {"source_url", r[url].c_str()}};
      };
      page.items.emplace_back(json::object{
          {"id", r[0].c_str()},
          {"status", r[1].c_str()},
          {"version", r[2].as<std::int64_t>()},
          {"before", image(3, 5)},
          {"after", image(4, 6)},
          {"source_url", r[7].c_str()},
          {"cue", r[8].c_str()},
          {"similarity", r[9].is_null() ? json::value(nullptr) : json::value(r[9].as<double>())},
          {"confidence", r[10].is_null() ? json::value(nullptr) : json::value(r[10].as<double>())},
          {"analysed", r[11].as<bool>()},
          {"breed", r[12].is_null() ? json::value(nullptr) : json::value(r[12].c_str())},
          {"breed_slug", r[13].is_null() ? json::value(nullptr) : json::value(r[13].c_str())},
          {"breed_set_by", NullIfEmpty(r[14].c_str())},
          {"services", json::parse(r[21].c_str())},
          {"services_set_by", NullIfEmpty(r[15].c_str())},
          {"reject_reason", NullIfEmpty(r[16].c_str())},
          {"notes", NullIfEmpty(r[17].c_str())},
          {"created_at", r[18].c_str()},
          {"updated_at", r[19].c_str()},
      });
    }
    return page;
  } catch (const std::exception& e) {
    lease->Discard();
    return Fail(ErrorCode::kUnavailable, fmt::format("listing pairs: {}", e.what()));
  }
}

}  // namespace furrsight::orchestrator::queries
