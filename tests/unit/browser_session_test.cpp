// The dashboard's cookie and same-origin rule (server/http/browser_session.h)
// and the lookup of its files (server/web_files.h), without a server.
#include "http/browser_session.h"
#include "web_files.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace mgteam;
using namespace mgteam::server;

TEST_CASE("session cookie: found among other cookies, empty values ignored, quotes removed, two refused") {
  auto secret = [](std::string_view h) { return FindSessionCookie(h).secret; };
  CHECK(secret("mgteam_session=mgs_abc") == "mgs_abc");
  CHECK(secret("theme=dark; mgteam_session=mgs_abc; x=1") == "mgs_abc");
  CHECK(secret(" theme=dark ;mgteam_session = \"mgs_q\" ") == "mgs_q");
  CHECK(secret("mgteam_session=; mgteam_session=mgs_2") == "mgs_2");
  CHECK(secret("mgteam_sessionx=mgs_abc").empty());
  CHECK(secret("xmgteam_session=mgs_abc").empty());
  CHECK(secret("").empty());
  CHECK(secret(";;;=;").empty());
  // Another page on this host planted a second one (under a longer path,
  // which the browser sends first): neither is used.
  auto two = FindSessionCookie("mgteam_session=mgs_planted; mgteam_session=mgs_mine");
  CHECK(two.ambiguous);
  CHECK(two.secret.empty());
  CHECK_FALSE(FindSessionCookie("mgteam_session=mgs_mine").ambiguous);
}

TEST_CASE("session cookie: HttpOnly, SameSite=Strict, Path=/, Secure only when asked, clearing sets Max-Age=0") {
  const std::string c = SessionSetCookie("mgs_x", 3600, false);
  CHECK(c == "mgteam_session=mgs_x; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict");
  CHECK(SessionSetCookie("mgs_x", 60, true).find("; Secure") != std::string::npos);
  CHECK(ClearedSessionCookie(false) == "mgteam_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
  CHECK(ClearedSessionCookie(false, "/api").find("; Path=/api;") != std::string::npos);
}

TEST_CASE("same-origin rule: Sec-Fetch-Site decides when a browser sends it") {
  RequestOrigin o;
  o.host = "127.0.0.1:8474";
  o.public_url = "http://127.0.0.1:8474";
  o.sec_fetch_site = "same-origin";
  CHECK(CheckSameOrigin(o).ok());
  o.sec_fetch_site = "none";
  CHECK(CheckSameOrigin(o).ok());
  for (const char* site : {"cross-site", "same-site", "CROSS-SITE", "garbage"}) {
    CAPTURE(site);
    o.sec_fetch_site = site;
    o.origin = "http://127.0.0.1:8474";  // a matching Origin does not overrule it
    Status s = CheckSameOrigin(o);
    CHECK(s.code() == Code::kPermissionDenied);
    CHECK(s.reason() == "cross_site_request");
  }
}

TEST_CASE("same-origin rule: without Sec-Fetch-Site, Origin must name this server, scheme and port included") {
  RequestOrigin o;
  o.host = "mg.example.com";
  o.public_url = "https://mg.example.com";
  CHECK(CheckSameOrigin(o).reason() == "cross_site_request");  // neither header
  o.origin = "null";
  CHECK(CheckSameOrigin(o).reason() == "cross_site_request");  // an opaque origin
  o.origin = "https://evil.example";
  CHECK(CheckSameOrigin(o).reason() == "cross_site_request");
  o.origin = "https://mg.example.com.evil.example";
  CHECK(CheckSameOrigin(o).reason() == "cross_site_request");
  o.origin = "https://MG.example.com";
  CHECK(CheckSameOrigin(o).ok());  // the public URL, any case
  o.origin = "https://mg.example.com:443";  // its default port, spelt out
  CHECK(CheckSameOrigin(o).ok());
  // Behind a proxy that rewrites Host, the public URL still identifies us.
  o.host = "127.0.0.1:8474";
  o.origin = "https://mg.example.com";
  CHECK(CheckSameOrigin(o).ok());
  o.origin = "http://127.0.0.1:8474";  // straight to the port, plain HTTP
  CHECK(CheckSameOrigin(o).ok());
  for (const char* bad : {"http://127.0.0.1:8475",      // another port
                          "https://127.0.0.1:8474",     // another scheme: not how this request came
                          "127.0.0.1:8474",             // no scheme
                          "http://127.0.0.1:8474:80",   // two ports
                          "http://127.0.0.1:8474/",     // a path
                          "http://u@127.0.0.1:8474",    // a user
                          "ftp://127.0.0.1:8474",
                          "http://mg.example.com"}) {   // the public host, wrong scheme
    CAPTURE(bad);
    o.origin = bad;
    CHECK(CheckSameOrigin(o).reason() == "cross_site_request");
  }
  // Over our own TLS the request's scheme is https.
  o.tls = true;
  o.origin = "https://127.0.0.1:8474";
  CHECK(CheckSameOrigin(o).ok());
  o.origin = "http://127.0.0.1:8474";
  CHECK(CheckSameOrigin(o).reason() == "cross_site_request");
}

TEST_CASE("origins parse strictly, with the default port made explicit") {
  CHECK(ParseOrigin("http://h") == ParsedOrigin{"http", "h:80"});
  CHECK(ParseOrigin("HTTPS://H.example") == ParsedOrigin{"https", "h.example:443"});
  CHECK(ParseOrigin("http://[::1]:8474") == ParsedOrigin{"http", "[::1]:8474"});
  CHECK(ParseOrigin("http://[::1]") == ParsedOrigin{"http", "[::1]:80"});
  for (const char* bad : {"", "h", "http://", "http://h:", "http://h:x", "http://h:123456", "http://::1",
                          "http://[::1", "http://h]", "http://h/p", "http://h?q", "http://h#f", "http://a@h",
                          "ws://h", "http://h:1:2", "http://[]:80"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseOrigin(bad).has_value());
  }
}

TEST_CASE("unsafe methods are the ones that change something") {
  for (const char* m : {"POST", "PUT", "PATCH", "DELETE"}) CHECK(IsUnsafeMethod(m));
  for (const char* m : {"GET", "HEAD", "OPTIONS"}) CHECK_FALSE(IsUnsafeMethod(m));
}

TEST_CASE("web paths: traversal, hidden files and control characters never resolve") {
  CHECK(SafeWebPath("/app.js") == "app.js");
  CHECK(SafeWebPath("js/api.js") == "js/api.js");
  for (const char* bad : {"", "/", "../etc/passwd", "js/../../x", "./app.js", "js//api.js", ".git/config",
                          "js/.hidden", "a\\b", "js/"}) {
    CAPTURE(bad);
    CHECK(SafeWebPath(bad).empty());
  }
  CHECK(SafeWebPath(std::string("a\0b", 3)).empty());
  CHECK(SafeWebPath(std::string(201, 'a')).empty());
}

TEST_CASE("web files: content types by extension") {
  CHECK(ContentTypeFor("index.html") == "text/html; charset=utf-8");
  CHECK(ContentTypeFor("js/app.js") == "text/javascript; charset=utf-8");
  CHECK(ContentTypeFor("style.css") == "text/css; charset=utf-8");
  CHECK(ContentTypeFor("favicon.svg") == "image/svg+xml");
  CHECK(ContentTypeFor("README") == "application/octet-stream");
}

TEST_CASE("web files: the built-in copy has index.html, a directory is read afresh with a new ETag per change") {
  auto embedded = WebFiles::Embedded();
  auto index = embedded.Find("index.html");
  REQUIRE(index != nullptr);
  CHECK(index->body.find("<html") != std::string::npos);
  CHECK(index->etag.size() == 34);
  CHECK(index->etag.front() == '"');

  auto dir = std::filesystem::temp_directory_path() / ("mgteam-web-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "js");
  std::ofstream(dir / "js" / "a.js") << "one";
  auto files = WebFiles::FromDirectory(dir.string());
  auto first = files.Find("js/a.js");
  REQUIRE(first != nullptr);
  CHECK(first->body == "one");
  CHECK(first->content_type == "text/javascript; charset=utf-8");
  std::ofstream(dir / "js" / "a.js") << "two";
  auto second = files.Find("js/a.js");
  REQUIRE(second != nullptr);
  CHECK(second->body == "two");
  CHECK(second->etag != first->etag);
  CHECK(files.Find("js") == nullptr);  // a directory is not a file
  CHECK(files.Find("missing.js") == nullptr);
  CHECK(files.Find("../" + dir.filename().string() + "/js/a.js") == nullptr);
  // A symlink within the directory is followed; one leading out is not.
  std::filesystem::create_symlink(dir / "js" / "a.js", dir / "b.js");
  std::filesystem::create_symlink("/etc/hostname", dir / "out.txt");
  std::filesystem::create_directory_symlink("/etc", dir / "etc");
  REQUIRE(files.Find("b.js") != nullptr);
  CHECK(files.Find("b.js")->body == "two");
  CHECK(files.Find("out.txt") == nullptr);
  CHECK(files.Find("etc/hostname") == nullptr);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the service worker's offline copy lists every file of the dashboard") {
  // A file missing from sw.js's SHELL would be missing from a reload made
  // offline (docs/dashboard.md), and the page would break only then.
  auto sw = WebFiles::Embedded().Find("sw.js");
  REQUIRE(sw != nullptr);
  int checked = 0;
  for (const auto& f : EmbeddedWebFiles()) {
    if (f.path == "sw.js") continue;
    const std::string url = f.path == "index.html" ? "'/'" : "'/" + std::string(f.path) + "'";
    CAPTURE(url);
    CHECK(sw->body.find(url) != std::string::npos);
    ++checked;
  }
  CHECK(checked >= 5);
}
