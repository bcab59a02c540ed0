// Pairing checks: how likely two decoded images show the same dog, before
// and after grooming. Three measures and one decision:
//
//   histogram  colour similarity, 0-1: 1 - Bhattacharyya (Hellinger) distance
//              between centre-weighted HSV histograms (the dog is usually in
//              the middle; the Gaussian weight fades the background out).
//   orb        ORB feature match ratio, 0-1: mutual nearest-neighbour matches
//              that pass Lowe's ratio test, over the smaller keypoint count.
//   phash      Hamming distance of the perceptual hashes; within
//              near_duplicate_distance the two are the same photo, which
//              disqualifies the pair however alike they are (before and
//              after must differ).
//
//   composite = histogram_weight * histogram
//             + orb_weight * min(1, orb / orb_saturation)
//   same_dog  = !near_duplicate && composite >= threshold
//
// The defaults and how they separate same-dog from unrelated pairs are in
// docs/vision.md. Deterministic (fixed ORB parameters, brute-force matching,
// no random source): the same pixels always give the same scores.
// Free functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include <opencv2/core/mat.hpp>

#include "events/base/error.hpp"
#include "workers/vision/perceptual_hash.hpp"

namespace furrsight::workers::vision {

struct PairScoreOptions {
  double histogram_weight = 0.5;
  double orb_weight = 0.5;
  double orb_saturation = 0.1;  // an ORB ratio at or above this counts as a full match
  double threshold = 0.37;      // composite at or above: same dog
  int near_duplicate_distance = kDefaultNearDuplicateDistance;  // pHash distance at or below: the same photo
};

struct OrbMatch {
  int keypoints_a = 0;
  int keypoints_b = 0;
  int good_matches = 0;  // mutual, ratio-tested
  double ratio = 0;      // good_matches / min(keypoints_a, keypoints_b); 0 under kMinOrbKeypoints
};

struct PairScore {
  double histogram = 0;
  OrbMatch orb;
  int phash_distance = 0;
  bool near_duplicate = false;
  double composite = 0;
  bool same_dog = false;
};

// Fewer keypoints than this in either image (a flat image) gives ratio 0.
inline constexpr int kMinOrbKeypoints = 10;

// Each accepts what ToBgr8 accepts (image_codec.hpp).
base::Result<double> HistogramSimilarity(const cv::Mat& a, const cv::Mat& b);
base::Result<OrbMatch> OrbMatchRatio(const cv::Mat& a, const cv::Mat& b);
base::Result<PairScore> ScorePair(const cv::Mat& before, const cv::Mat& after, const PairScoreOptions& options = {});

// The named scores PairProposed.scores carries: "histogram", "orb",
// "phash_distance", "composite"; PairProposed.similarity is the composite.
std::map<std::string, double> ScoreMap(const PairScore& score);

}  // namespace furrsight::workers::vision
