// The column lists and row readers both stores share (SqliteStore,
// PostgresStore): one definition, so that the two can never read a table's
// columns in different orders. A reader takes any row with Text(col),
// OptText(col) and Int(col): sql::Stmt as it is, a PostgreSQL result row
// through pg::Row.
#pragma once

#include "mgteam/model.h"
#include "store/store.h"

namespace mgteam::server::records {

inline constexpr const char* kWorkspaceCols =
    "w.id, w.kind, w.name, w.slug, w.owner_id, w.epoch, w.head_seq, w.created_at, w.updated_at";
inline constexpr const char* kTokenCols =
    "id, user_id, name, hash, prefix, created_at, last_used_at, revoked_at, expires_at";
inline constexpr const char* kMemberSelect =
    "SELECT m.workspace_id, m.user_id, m.role, m.joined_at, u.name, u.email "
    "FROM memberships m JOIN users u ON u.id = m.user_id";
inline constexpr const char* kInvitationCols =
    "id, workspace_id, email_norm, role, inviter_id, token_hash, created_at, expires_at, "
    "accepted_at, accepted_by, revoked_at";

template <class Row>
Workspace ReadWorkspace(Row& q) {
  Workspace w;
  w.id = q.Text(0);
  w.kind = q.Text(1);
  w.name = q.Text(2);
  w.slug = q.Text(3);
  w.owner_id = q.Text(4);
  w.epoch = q.Text(5);
  w.head_seq = q.Int(6);
  w.created_at = q.Text(7);
  w.updated_at = q.Text(8);
  return w;
}

template <class Row>
TokenRecord ReadToken(Row& q) {
  TokenRecord t;
  t.id = q.Text(0);
  t.user_id = q.Text(1);
  t.name = q.Text(2);
  t.hash = q.Text(3);
  t.prefix = q.Text(4);
  t.created_at = q.Text(5);
  t.last_used_at = q.OptText(6);
  t.revoked_at = q.OptText(7);
  t.expires_at = q.OptText(8);
  return t;
}

template <class Row>
InvitationRecord ReadInvitation(Row& q) {
  InvitationRecord i;
  i.id = q.Text(0);
  i.workspace_id = q.Text(1);
  i.email_norm = q.Text(2);
  i.role = q.Text(3);
  i.inviter_id = q.Text(4);
  i.token_hash = q.Text(5);
  i.created_at = q.Text(6);
  i.expires_at = q.Text(7);
  i.accepted_at = q.OptText(8);
  i.accepted_by = q.OptText(9);
  i.revoked_at = q.OptText(10);
  return i;
}

template <class Row>
Member ReadMember(Row& q) {
  Member m;
  m.workspace_id = q.Text(0);
  m.user_id = q.Text(1);
  m.role = q.Text(2);
  m.joined_at = q.Text(3);
  m.name = q.Text(4);
  m.email = q.Text(5);
  return m;
}

}  // namespace mgteam::server::records
