#pragma once

// Small typed helpers for reading and writing protobuf records, shared by the
// services. Internal to server/services.

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "storage/committer.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace preceptor::services {

inline std::string key_of(uint64_t a) { return storage::encode_u64(a); }
inline std::string key_of(uint64_t a, uint64_t b) {
  std::string k;
  storage::append_u64(k, a);
  storage::append_u64(k, b);
  return k;
}
inline std::string key_of(uint64_t a, uint64_t b, uint64_t c) {
  std::string k = key_of(a, b);
  storage::append_u64(k, c);
  return k;
}

// Reads a record inside a mutation (sees the group's earlier writes).
// nullopt when absent; DATA_LOSS when the bytes do not parse.
template <class M>
Result<std::optional<M>> load(storage::CommitContext& ctx, storage::Cf cf, std::string_view key) {
  auto raw = ctx.get(cf, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) return data_loss("A stored record in " + std::string(storage::cf_name(cf)) + " is damaged.");
  return std::optional<M>(std::move(m));
}

// Reads committed data outside the committer.
template <class M>
Result<std::optional<M>> load(const storage::Store& store, storage::Cf cf, std::string_view key) {
  auto raw = store.get(cf, key);
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<M>();
  M m;
  if (!m.ParseFromString(**raw)) return data_loss("A stored record in " + std::string(storage::cf_name(cf)) + " is damaged.");
  return std::optional<M>(std::move(m));
}

template <class M>
void save(storage::CommitContext& ctx, storage::Cf cf, std::string_view key, const M& m) {
  ctx.put(cf, key, m.SerializeAsString());
}

// Iterates keys of `cf` starting with `prefix`, calling fn(key, value) until
// it returns false.
template <class Fn>
Status scan_prefix(const storage::Store& store, storage::Cf cf, std::string_view prefix, Fn fn) {
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(rocksdb::ReadOptions(), store.cf(cf)));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, std::string_view(it->value().data(), it->value().size()))) break;
  }
  if (!it->status().ok()) return unavailable("The database could not be read (" + it->status().ToString() + ").");
  return Status::ok();
}

// Runs `apply` on the committer and hands `done` the value it produced.
// `origin`: see storage::Committer::submit.
template <class T>
void commit_with_result(storage::Committer& committer, std::function<Status(storage::CommitContext&, T&)> apply,
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
