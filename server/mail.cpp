#include "mail.h"

#include "mgteam/ids.h"

#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <memory>

namespace mgteam::server {
namespace {

// Header values never carry line breaks (no header injection through a team
// name); addresses were validated before they got here.
std::string HeaderSafe(std::string v) {
  for (char& c : v)
    if (c == '\r' || c == '\n' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  return v;
}

std::string Rfc5322Now() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct Upload {
  std::string data;
  size_t offset = 0;
};

size_t ReadChunk(char* out, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t room = size * n, left = u->data.size() - u->offset, take = left < room ? left : room;
  std::memcpy(out, u->data.data() + u->offset, take);
  u->offset += take;
  return take;
}

}  // namespace

void InitMail() { curl_global_init(CURL_GLOBAL_DEFAULT); }

Status SmtpConfig::Check() const {
  if (!enabled()) return Status::Ok();
  if (tls != "starttls" && tls != "tls" && tls != "none")
    return Status::Invalid("invalid_config", "--smtp-tls must be starttls, tls or none");
  if (port <= 0 || port > 65535) return Status::Invalid("invalid_config", "--smtp-port must be 1-65535");
  if (from.empty() || from.find('@') == std::string::npos)
    return Status::Invalid("invalid_config", "--smtp-from must be an email address");
  if (user.empty() != password.empty())
    return Status::Invalid("invalid_config", "--smtp-user and --smtp-password go together");
  return Status::Ok();
}

std::string FormatMail(const std::string& from, const MailMessage& m, const std::string& date_rfc5322,
                       const std::string& message_id) {
  std::string out = "Date: " + date_rfc5322 + "\r\nFrom: mgteam <" + HeaderSafe(from) + ">\r\nTo: <" +
                    HeaderSafe(m.to) + ">\r\nSubject: " + HeaderSafe(m.subject) + "\r\nMessage-ID: <" +
                    message_id + ">\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n";
  for (char c : m.body) {
    if (c == '\n') out += "\r\n";
    else if (c != '\r') out += c;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

Status SendMail(const SmtpConfig& smtp, const MailMessage& m) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Status::Internal("cannot start libcurl");
  const std::string domain = smtp.from.substr(smtp.from.find('@') + 1);
  Upload up{FormatMail(smtp.from, m, Rfc5322Now(), NewUuidV7() + "@" + domain), 0};
  std::string url = (smtp.tls == "tls" ? "smtps://" : "smtp://") + smtp.host + ":" + std::to_string(smtp.port);
  std::string from = "<" + smtp.from + ">", to = "<" + m.to + ">";
  curl_slist* rcpt = curl_slist_append(nullptr, to.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpt_guard(rcpt, curl_slist_free_all);
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(smtp.timeout_seconds));
  if (smtp.tls == "starttls") curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!smtp.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, smtp.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, smtp.password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    return Status::Unavailable("mail_failed", "could not send mail through " + smtp.host + ":" +
                                                  std::to_string(smtp.port) + ": " + curl_easy_strerror(rc));
  return Status::Ok();
}

}  // namespace mgteam::server
