// ApiServer: the REST API wired from the settings — the store and its
// services, the blob store, the authenticator (OIDC JWTs and API keys), the
// route table and the HTTP server — and started. What `furrsight api` and
// `furrsight dev` run, and what the API tests start in-process on a free
// port. Owns everything it builds; Stop() (or the destructor) shuts the HTTP
// server down gracefully, then the rest.
#pragma once

#include <cstdint>
#include <memory>

#include "events/base/config.hpp"
#include "orchestrator/api/http/router.hpp"

namespace furrsight::api {

class ApiServer {
 public:
  // Builds and starts listening on api_address:api_port (0: a free port).
  // kUnavailable when the port is taken or PostgreSQL cannot be reached.
  static base::Result<std::unique_ptr<ApiServer>> Start(const base::Config& config);
  ~ApiServer();

  std::uint16_t port() const;
  const Router& router() const;
  void Stop();

  struct Parts;

 private:
  explicit ApiServer(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace furrsight::api
