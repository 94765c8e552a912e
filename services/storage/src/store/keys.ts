// The API key store: each key's id, name, scopes, who created it, when it was revoked, and the
// SHA-256 of its secret (never the secret). A port with a memory and a MongoDB adapter, both
// held to runKeyStoreContract. Not a hot path: a process asks for a key once per cache TTL.
import type { Collection, Db } from 'mongodb';

export interface ApiKeyDoc {
  keyId: string;
  name: string;
  scopes: string[];
  secretHash: string;
  createdAt: number;
  /** The creating key's id, or "bootstrap". */
  createdBy: string;
  /** 0 while the key is valid. */
  revokedAt: number;
  /** The bot the key acts as (`bot:<name>`); absent for any other key. */
  botId?: string;
}

export interface KeyStore {
  /** Stores a new key; 'exists' (and no change) when its id is taken. */
  insert(doc: ApiKeyDoc): Promise<'created' | 'exists'>;
  get(keyId: string): Promise<ApiKeyDoc | undefined>;
  /** Keys after `afterKeyId` in key-id order, at most `limit`. */
  list(afterKeyId: string, limit: number): Promise<ApiKeyDoc[]>;
  /** Marks the key revoked at `at` unless it already is; the key as stored after, or undefined when unknown. */
  revoke(keyId: string, at: number): Promise<ApiKeyDoc | undefined>;
}

export class MemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, ApiKeyDoc>();

  async insert(doc: ApiKeyDoc): Promise<'created' | 'exists'> {
    if (this.keys.has(doc.keyId)) return 'exists';
    this.keys.set(doc.keyId, { ...doc, scopes: [...doc.scopes] });
    return 'created';
  }

  async get(keyId: string): Promise<ApiKeyDoc | undefined> {
    const doc = this.keys.get(keyId);
    return doc ? { ...doc, scopes: [...doc.scopes] } : undefined;
  }

  async list(afterKeyId: string, limit: number): Promise<ApiKeyDoc[]> {
    return [...this.keys.values()]
      .filter((k) => k.keyId > afterKeyId)
      .sort((a, b) => (a.keyId < b.keyId ? -1 : 1))
      .slice(0, limit)
      .map((k) => ({ ...k, scopes: [...k.scopes] }));
  }

  async revoke(keyId: string, at: number): Promise<ApiKeyDoc | undefined> {
    const doc = this.keys.get(keyId);
    if (!doc) return undefined;
    if (doc.revokedAt === 0) doc.revokedAt = at;
    return { ...doc, scopes: [...doc.scopes] };
  }
}

interface KeyRecord extends Omit<ApiKeyDoc, 'keyId'> {
  _id: string;
}

const fromRecord = ({ _id, ...rest }: KeyRecord): ApiKeyDoc => ({ keyId: _id, ...rest });

export class MongoKeyStore implements KeyStore {
  constructor(private readonly keys: Collection<KeyRecord>) {}

  static on(db: Db): MongoKeyStore {
    return new MongoKeyStore(db.collection<KeyRecord>('api_keys'));
  }

  async insert(doc: ApiKeyDoc): Promise<'created' | 'exists'> {
    const { keyId, ...rest } = doc;
    try {
      await this.keys.insertOne({ _id: keyId, ...rest });
      return 'created';
    } catch (err) {
      if ((err as { code?: unknown }).code === 11000) return 'exists';
      throw err;
    }
  }

  async get(keyId: string): Promise<ApiKeyDoc | undefined> {
    const record = await this.keys.findOne({ _id: keyId });
    return record ? fromRecord(record) : undefined;
  }

  async list(afterKeyId: string, limit: number): Promise<ApiKeyDoc[]> {
    // A handful of keys per installation: FerretDB's in-memory sort of all of them is cheap.
    const records = await this.keys.find({ _id: { $gt: afterKeyId } }).sort({ _id: 1 }).limit(limit).toArray();
    return records.map(fromRecord);
  }

  async revoke(keyId: string, at: number): Promise<ApiKeyDoc | undefined> {
    // One document, one update; revokedAt is only ever set once.
    await this.keys.updateOne({ _id: keyId, revokedAt: 0 }, { $set: { revokedAt: at } });
    return this.get(keyId);
  }
}
