#include "workers/sample_site/ground_truth.hpp"

#include <algorithm>

#include <boost/json/array.hpp>

namespace furrsight::workers::sample_site {

std::string_view CueName(Cue cue) {
  switch (cue) {
    case Cue::kAlt: return "alt";
    case Cue::kCaption: return "caption";
    case Cue::kFilename: return "filename";
    case Cue::kAdjacent: return "adjacent";
    case Cue::kCompositeSide: return "composite-side";
    case Cue::kCompositeStacked: return "composite-stacked";
  }
  return "unknown";
}

std::string_view DecoyKindName(DecoyKind kind) {
  switch (kind) {
    case DecoyKind::kLabelledDifferentDogs: return "labelled-different-dogs";
    case DecoyKind::kAdjacentDifferentDogs: return "adjacent-different-dogs";
  }
  return "unknown";
}

std::string_view DuplicateKindName(DuplicateKind kind) {
  switch (kind) {
    case DuplicateKind::kExact: return "exact";
    case DuplicateKind::kSameUrl: return "same-url";
    case DuplicateKind::kNearReencoded: return "near-reencoded";
    case DuplicateKind::kNearResized: return "near-resized";
    case DuplicateKind::kSrcsetVariant: return "srcset-variant";
  }
  return "unknown";
}

std::size_t GroundTruth::CountPairs(Cue cue) const {
  return static_cast<std::size_t>(std::ranges::count_if(pairs, [cue](const TruePair& p) { return p.cue == cue; }));
}

std::string AbsoluteUrl(std::string_view base_url, std::string_view path_or_url) {
  if (path_or_url.starts_with("/")) return std::string(base_url) + std::string(path_or_url);
  return std::string(path_or_url);
}

boost::json::object ToJson(const GroundTruth& truth, std::string_view base_url) {
  auto url = [&](std::string_view p) { return boost::json::string(AbsoluteUrl(base_url, p)); };
  boost::json::object out;
  out["base_url"] = base_url;
  out["seed"] = truth.seed;
  out["flat_images"] = truth.flat_images;

  boost::json::array pairs;
  for (const TruePair& p : truth.pairs) {
    boost::json::object o;
    o["page_url"] = url(p.page_path);
    o["before_url"] = url(p.before_path);
    o["after_url"] = url(p.after_path);
    o["cue"] = CueName(p.cue);
    o["dog_name"] = p.dog_name;
    o["breed"] = p.breed;
    o["dog_seed"] = p.dog_seed;
    o["depth"] = p.depth;
    if (p.cue == Cue::kCompositeSide || p.cue == Cue::kCompositeStacked) o["divider_px"] = p.divider_px;
    pairs.push_back(std::move(o));
  }
  out["pairs"] = std::move(pairs);

  boost::json::object counts;
  for (Cue cue : kAllCues) counts[CueName(cue)] = truth.CountPairs(cue);
  out["pair_counts"] = std::move(counts);

  boost::json::array decoys;
  for (const Decoy& d : truth.decoys)
    decoys.push_back(boost::json::object{{"page_url", url(d.page_path)},
                                         {"first_url", url(d.first_path)},
                                         {"second_url", url(d.second_path)},
                                         {"kind", DecoyKindName(d.kind)}});
  out["decoys"] = std::move(decoys);

  boost::json::array unrelated;
  for (const UnrelatedImage& u : truth.unrelated) {
    boost::json::array pages;
    for (const std::string& p : u.page_paths) pages.push_back(url(p));
    unrelated.push_back(boost::json::object{{"url", url(u.path)}, {"kind", u.kind}, {"page_urls", std::move(pages)}});
  }
  out["unrelated"] = std::move(unrelated);

  boost::json::array duplicates;
  for (const Duplicate& d : truth.duplicates)
    duplicates.push_back(boost::json::object{{"kind", DuplicateKindName(d.kind)},
                                             {"original_url", url(d.original_path)},
                                             {"copy_url", url(d.copy_path)},
                                             {"copy_page_url", url(d.copy_page_path)}});
  out["duplicates"] = std::move(duplicates);

  boost::json::array hazards;
  for (const Hazard& h : truth.hazards) {
    boost::json::object o{{"url", url(h.path)}, {"kind", h.kind}, {"page_url", url(h.page_path)}};
    if (!h.target.empty()) o["target"] = h.target;
    hazards.push_back(std::move(o));
  }
  out["hazards"] = std::move(hazards);

  boost::json::array never;
  for (const NeverFetch& n : truth.never_fetch)
    never.push_back(boost::json::object{{"url", url(n.url)}, {"reason", n.reason}, {"page_url", url(n.page_path)}});
  out["never_fetch"] = std::move(never);

  boost::json::array pages;
  for (const std::string& p : truth.pages) pages.push_back(url(p));
  out["pages"] = std::move(pages);
  boost::json::array images;
  for (const std::string& p : truth.images) images.push_back(url(p));
  out["images"] = std::move(images);
  return out;
}

}  // namespace furrsight::workers::sample_site
