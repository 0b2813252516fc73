// The dashboard's pages on the API's own port: `/` and `/join/TOKEN` are the
// single page (index.html), other paths are its files (docs/dashboard.md).
// Every page carries the Content-Security-Policy and framing rules that make
// an injected script or a clickjacking frame inert.
#pragma once

#include "config.h"
#include "web_files.h"

namespace httplib {
class Server;
}

namespace mgteam::server {

// The headers every dashboard page and file is served with.
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// Registers the GET routes. Call after the API's routes: those come first,
// and /api/ paths never fall through to a file.
void InstallStaticSite(httplib::Server& http, const ServerConfig& config);

}  // namespace mgteam::server
