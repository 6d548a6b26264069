import { MemoryStorageBackend } from "../../src/storage/memory/memory-storage-backend.ts";
import { storageContract } from "../support/storage-contract.ts";

storageContract("memory", { create: async (options) => new MemoryStorageBackend(options) });
