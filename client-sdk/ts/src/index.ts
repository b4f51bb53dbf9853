export * from "./gen/preceptor/v1/accounts_pb.js";
export * from "./gen/preceptor/v1/audit_pb.js";
export * from "./gen/preceptor/v1/chat_pb.js";
export * from "./gen/preceptor/v1/errors_pb.js";
export * from "./gen/preceptor/v1/events_pb.js";
export * from "./gen/preceptor/v1/frames_pb.js";
export * from "./gen/preceptor/v1/meetings_pb.js";
export * from "./gen/preceptor/v1/mentorship_pb.js";
export * from "./gen/preceptor/v1/records_pb.js";
export * from "./gen/preceptor/v1/work_pb.js";
export { create, toBinary, fromBinary } from "@bufbuild/protobuf";
export { PreceptorClient, newClientMessageId } from "./client.js";
export type {
  ClientOptions,
  ConnectionState,
  StateChange,
  PendingMessage,
  RequestCase,
  RequestInit,
  ResultOf,
  SendInit,
  WebSocketLike,
  WebSocketFactory,
} from "./client.js";
export { PreceptorError } from "./errors.js";
export type { ClientStorage, WebStorageArea } from "./storage.js";
export { MemoryStorage, WebStorage } from "./storage.js";
