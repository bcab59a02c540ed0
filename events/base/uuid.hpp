// UUIDs in their canonical text form, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
// in lower-case hex: random ones for new ids, name-based ones where a retry
// must produce the same id (an event id derived from a command id, say).
// Thread-safe: each thread draws from its own generator.
#pragma once

#include <string>
#include <string_view>

namespace furrsight::base {

// A random (version 4) UUID from a thread-local std::mt19937_64 seeded from
// std::random_device. Unique, not secret: never use one as a credential.
std::string NewUuid();

// The same UUID for the same inputs, forever: the first 128 bits of the
// SHA-256 of the namespace name and the name, with the version and variant
// bits set. Built like a version 5 UUID but with SHA-256 instead of SHA-1, so
// it is labelled version 8 (RFC 9562, appendix B.2). Different (namespace,
// name) pairs never hash the same input: the namespace is length-prefixed.
std::string UuidFromName(std::string_view namespace_name, std::string_view name);

// True for the canonical 8-4-4-4-12 hex form (either case; any version).
bool IsUuid(std::string_view text);

}  // namespace furrsight::base
