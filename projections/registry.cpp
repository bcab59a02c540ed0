#include "projections/registry.hpp"

#include "projections/furrsight/furrsight_projection.hpp"
#include "projections/pixcrawler/pixcrawler_projection.hpp"

namespace furrsight::projections {

const std::vector<std::unique_ptr<Projection>>& AllProjections() {
  static const auto* all = [] {
    auto* v = new std::vector<std::unique_ptr<Projection>>();
    v->push_back(std::make_unique<FurrSightProjection>());
    v->push_back(std::make_unique<PixCrawlerProjection>());
    return v;
  }();
  return *all;
}

const Projection* FindProjection(std::string_view name) {
  for (const auto& p : AllProjections())
    if (p->name() == name) return p.get();
  return nullptr;
}

}  // namespace furrsight::projections
