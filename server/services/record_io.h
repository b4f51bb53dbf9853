#pragma once

// Small typed helpers for reading and writing protobuf records, shared by the
// services. Internal to server/services. Keys come from the named codecs in
// storage/keys.h; ranges are read with Store::scan and CommitContext::scan.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace preceptor::services {

// The serialized items one page of a reply that lists things (Sync, History,
// ListMentors, ListMentorships) may carry, about: a page stops before the
// item that would pass it, but always holds at least one so paging makes
// progress. Well inside the 1 MiB a connection may have waiting to be sent.
inline constexpr size_t kMaxPageBytes = 256 * 1024;

// Reads a record inside a mutation (sees the group's earlier writes).
// nullopt when absent; DATA_LOSS when the bytes do not parse.
template <class M>
Result<std::optional<M>> load(storage::CommitContext& ctx, storage::Cf cf, std::string_view key) {
  auto raw = ctx.get(cf, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw))
    return data_loss("A stored record in " + std::string(storage::cf_name(cf)) + " is damaged.");
  return std::optional<M>(std::move(m));
}

// Reads committed data outside the committer.
template <class M>
Result<std::optional<M>> load(const storage::Store& store, storage::Cf cf, std::string_view key) {
  auto raw = store.get(cf, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw))
    return data_loss("A stored record in " + std::string(storage::cf_name(cf)) + " is damaged.");
  return std::optional<M>(std::move(m));
}

template <class M>
void save(storage::CommitContext& ctx, storage::Cf cf, std::string_view key, const M& m) {
  ctx.put(cf, key, m.SerializeAsString());
}

// Runs `apply` on the committer and hands `done` the value it produced.
// `origin`: see storage::Committer::submit.
template <class T>
void commit_with_result(storage::Committer& committer,
                        std::function<Status(storage::CommitContext&, T&)> apply,
                        std::function<void(Result<T>)> done, uint64_t origin = 0) {
  auto out = std::make_shared<T>();
  committer.submit([apply = std::move(apply), out](storage::CommitContext& ctx) { return apply(ctx, *out); },
                   [out, done = std::move(done)](const Status& st) {
                     if (!st) return done(st);
                     done(std::move(*out));
                   },
                   origin);
}

}  // namespace preceptor::services
