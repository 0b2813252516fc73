// Outgoing mail (invitations) through an SMTP server, with libcurl.
//
// Sending happens after the invitation is committed and outside any store
// transaction: an SMTP server that is slow or down must not hold the
// database's write lock, and a failed delivery still leaves a valid
// invitation whose link the inviter gets instead.
#pragma once

#include "mgteam/status.h"

#include <string>

namespace mgteam::server {

struct SmtpConfig {
  std::string host;        // empty: no mail; invitations return their link
  int port = 587;
  std::string tls = "starttls";  // starttls (required) | tls (smtps) | none
  std::string user;
  std::string password;
  std::string from;        // default: mgteam@<host of the public URL>
  int timeout_seconds = 15;

  bool enabled() const { return !host.empty(); }
  Status Check() const;
};

struct MailMessage {
  std::string to;
  std::string subject;
  std::string body;  // plain text, UTF-8, \n line ends
};

// The message as sent (RFC 5322, CRLF line ends). Pure, for tests.
std::string FormatMail(const std::string& from, const MailMessage& m, const std::string& date_rfc5322,
                       const std::string& message_id);

// Once per process, before threads start (libcurl's global state).
void InitMail();

// Sends one message; a clear error (unreachable, refused, auth) on failure.
Status SendMail(const SmtpConfig& smtp, const MailMessage& m);

}  // namespace mgteam::server
