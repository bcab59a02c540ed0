// Before/after candidates from the cues on one page, before any pixel is
// looked at: words ("before", "after", "pre-groom", ...) in an image's alt
// text, title, caption or file name, or in the text next to it; and plain
// adjacency (two images in a row on the page). Every candidate is checked
// with OpenCV later (pair_job.cpp); composites holding both halves are found
// there too, from the pixels. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

namespace furrsight::workers::pairing {

struct PageImage {
  std::string url;
  std::string alt, title, caption, nearby_text;
  int position = 0;  // order on the page
};

enum class Side { kNone, kBefore, kAfter };

struct Label {
  Side side = Side::kNone;
  std::string field;  // where the word was: "alt", "title", "caption", "filename", "text"
};

// The side an image claims, from its strongest cue (alt/title, caption,
// file name, then nearby text).
Label LabelOf(const PageImage& image);

struct Candidate {
  std::string before_url;
  std::string after_url;
  std::string cue;     // "alt:before/after", "caption:before/after", "filename:before/after", "text:before/after", "adjacent"
  double score = 0;    // how strong the cue is, 0-1
};

// Labelled images pair with the nearest opposite label on the page (each
// image in at most one labelled pair); unlabelled images next to each other
// become "adjacent" candidates, the earlier one as before.
std::vector<Candidate> FindCandidates(std::vector<PageImage> images);

}  // namespace furrsight::workers::pairing
