#include "workers/pairing/pair_candidates.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "events/base/text.hpp"

namespace furrsight::workers::pairing {
namespace {

constexpr std::string_view kBeforeWords[] = {"before", "pre-groom", "pregroom", "pre groom", "prior to"};
constexpr std::string_view kAfterWords[] = {"after", "post-groom", "postgroom", "post groom", "finished look"};

using base::Lower;

// A whole word (or phrase): not inside a longer word ("afternoon", "hereafter").
bool HasWord(const std::string& text, std::string_view word) {
  for (size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || !std::isalpha(static_cast<unsigned char>(text[at - 1]));
    const size_t end = at + word.size();
    const bool ends = end >= text.size() || !std::isalpha(static_cast<unsigned char>(text[end]));
    if (starts && ends) return true;
  }
  return false;
}

Side SideOf(std::string_view raw) {
  const std::string text = Lower(raw);
  bool before = false, after = false;
  for (auto w : kBeforeWords) before = before || HasWord(text, w);
  for (auto w : kAfterWords) after = after || HasWord(text, w);
  if (before == after) return Side::kNone;  // neither, or both ("before and after"): no side
  return before ? Side::kBefore : Side::kAfter;
}

// "https://x/img/bella-before.jpg?v=2" -> "bella before" (separators as spaces).
std::string FileName(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  std::string name = path.substr(path.rfind('/') + 1);
  name = name.substr(0, name.rfind('.'));
  for (char& c : name)
    if (c == '-' || c == '_' || c == '.') c = ' ';
  return name;
}

double CueScore(const std::string& field) {
  if (field == "alt" || field == "title" || field == "caption") return 0.9;
  if (field == "filename") return 0.8;
  return 0.6;  // nearby text
}

}  // namespace

Label LabelOf(const PageImage& image) {
  const std::pair<std::string_view, std::string> fields[] = {{"alt", image.alt},
                                                             {"title", image.title},
                                                             {"caption", image.caption},
                                                             {"filename", FileName(image.url)},
                                                             {"text", image.nearby_text}};
  for (const auto& [field, text] : fields)
    if (Side side = SideOf(text); side != Side::kNone) return {side, std::string(field)};
  return {};
}

std::vector<Candidate> FindCandidates(std::vector<PageImage> images) {
  std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.position < b.position; });
  // The same URL twice on a page counts once.
  std::set<std::string> seen;
  std::erase_if(images, [&](const PageImage& i) { return !seen.insert(i.url).second; });

  std::vector<Label> labels;
  for (const auto& image : images) labels.push_back(LabelOf(image));
  std::vector<bool> used(images.size(), false);
  std::vector<Candidate> out;
  // Labelled pairs: each "before" takes the nearest unused "after" (ties: the later one).
  for (size_t i = 0; i < images.size(); ++i) {
    if (labels[i].side != Side::kBefore || used[i]) continue;
    size_t best = images.size();
    for (size_t j = 0; j < images.size(); ++j) {
      if (labels[j].side != Side::kAfter || used[j]) continue;
      const auto distance = [&](size_t k) { return k > i ? k - i : i - k; };
      if (best == images.size() || distance(j) < distance(best) || (distance(j) == distance(best) && j > i))
        best = j;
    }
    if (best == images.size()) continue;
    used[i] = used[best] = true;
    const std::string& field = labels[i].field == "text" ? labels[best].field : labels[i].field;
    out.push_back({images[i].url, images[best].url, field + ":before/after",
                   std::min(CueScore(labels[i].field), CueScore(labels[best].field))});
  }
  // Adjacency: unlabelled, unused neighbours.
  for (size_t i = 0; i + 1 < images.size(); ++i) {
    if (used[i] || used[i + 1] || labels[i].side != Side::kNone || labels[i + 1].side != Side::kNone) continue;
    out.push_back({images[i].url, images[i + 1].url, "adjacent", 0.4});
  }
  return out;
}

}  // namespace furrsight::workers::pairing
