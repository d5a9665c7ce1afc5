package dev.armdb.server;

import static dev.armdb.server.RespContext.is;
import static dev.armdb.server.RespContext.lower;
import static dev.armdb.server.RespContext.str;

import dev.armdb.FixedStore;
import dev.armdb.index.HashIndex;
import dev.armdb.store.Shard;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The string and key-space commands of one connection: GET/SET and their variants, DEL, EXISTS, TTL and the
 * refused expiry commands, SCAN/KEYS/RANDOMKEY, OBJECT, MEMORY, FLUSHDB. Used by one thread at a time, as {@link
 * RespCommands}.
 */
final class KeyCommands {
    private static final int DEFAULT_SCAN_COUNT = 10;
    private static final int FLUSH_BATCH = 1024;

    private final RespContext ctx;
    private final RespWriter out;

    KeyCommands(RespContext ctx) {
        this.ctx = ctx;
        this.out = ctx.out;
    }

    void register(RespCommands.Binder b) {
        b.on("GET", this::get);
        b.on("SET", this::set);
        b.on("SETNX", this::setnx);
        b.on("GETSET", this::getset);
        b.on("GETDEL", this::getdel);
        b.on("GETEX", this::getex);
        b.on(
                "STRLEN",
                a -> out.integer(
                        ctx.map().containsKey(ctx.key(a.get(1)))
                                ? ctx.map().config().valueSize()
                                : 0));
        b.on("MGET", this::mget);
        b.on("MSET", this::mset);
        b.on("DEL", this::del);
        b.on("UNLINK", this::del);
        b.on("EXISTS", this::exists);
        b.on("TYPE", a -> out.simple(ctx.map().containsKey(ctx.key(a.get(1))) ? "string" : "none"));
        for (String ttl : List.of("TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME")) {
            b.on(ttl, a -> out.integer(ctx.map().containsKey(ctx.key(a.get(1))) ? -1 : -2));
        }
        for (String expiring : List.of("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "SETEX", "PSETEX")) {
            b.on(expiring, a -> {
                throw noExpiry(expiring);
            });
        }
        b.on("DBSIZE", a -> out.integer(ctx.map().size()));
        b.on("SCAN", this::scan);
        b.on("KEYS", this::keys);
        b.on("RANDOMKEY", a -> out.bulk(randomKey()));
        b.on("OBJECT", this::object);
        b.on("MEMORY", this::memory);
        b.on("FLUSHDB", this::flush);
        b.on("FLUSHALL", this::flush);
    }

    static RespArgsException noExpiry(String what) {
        return new RespArgsException("ERR keys do not expire in armdb (fixed-size slots carry no time to live): " + what
                + " is not supported");
    }

    private void get(List<byte[]> a) {
        byte[] v = ctx.map().get(ctx.key(a.get(1)));
        ctx.clients().lookup(v != null);
        out.bulk(v);
    }

    private void getex(List<byte[]> a) {
        if (a.size() > 2) {
            throw noExpiry("GETEX " + str(a.get(2)).toUpperCase(java.util.Locale.ROOT));
        }
        get(a);
    }

    private void set(List<byte[]> a) {
        boolean nx = false;
        boolean xx = false;
        boolean get = false;
        for (int i = 3; i < a.size(); i++) {
            byte[] o = a.get(i);
            if (is(o, "NX")) {
                nx = true;
            } else if (is(o, "XX")) {
                xx = true;
            } else if (is(o, "GET")) {
                get = true;
            } else if (is(o, "EX") || is(o, "PX") || is(o, "EXAT") || is(o, "PXAT")) {
                throw noExpiry("SET " + str(o).toUpperCase(java.util.Locale.ROOT));
            } else if (!is(o, "KEEPTTL")) {
                throw new RespArgsException("ERR syntax error");
            }
        }
        if (nx && xx) {
            throw new RespArgsException("ERR syntax error");
        }
        byte[] k = ctx.key(a.get(1));
        byte[] v = ctx.value(a.get(2));
        ctx.checkWritable();
        if (get || xx) {
            conditionalSet(k, v, nx, xx, get);
        } else if (nx) {
            long lsn = ctx.map().putIfAbsent(k, v);
            if (lsn != FixedStore.UNCHANGED) {
                ctx.noteWrite(k, lsn);
                out.ok();
            } else {
                out.nullBulk();
            }
        } else {
            ctx.noteWrite(k, ctx.map().put(k, v));
            out.ok();
        }
    }

    /** SET with XX and/or GET: the check (or read) and the write happen under the key's shard lock. */
    private void conditionalSet(byte[] k, byte[] v, boolean nx, boolean xx, boolean get) {
        byte[][] before = new byte[1][];
        boolean written = ctx.withKeyLocked(k, () -> {
            before[0] = ctx.map().get(k);
            boolean write = nx ? before[0] == null : !xx || before[0] != null;
            if (write) {
                ctx.noteWrite(k, ctx.map().put(k, v));
            }
            return write;
        });
        if (get) {
            out.bulk(before[0]);
        } else if (written) {
            out.ok();
        } else {
            out.nullBulk();
        }
    }

    private void getset(List<byte[]> a) {
        byte[] k = ctx.key(a.get(1));
        byte[] v = ctx.value(a.get(2));
        ctx.checkWritable();
        byte[] old = ctx.withKeyLocked(k, () -> {
            byte[] before = ctx.map().get(k);
            ctx.noteWrite(k, ctx.map().put(k, v));
            return before;
        });
        ctx.clients().lookup(old != null);
        out.bulk(old);
    }

    private void getdel(List<byte[]> a) {
        byte[] k = ctx.key(a.get(1));
        ctx.checkWritable();
        byte[] old = ctx.withKeyLocked(k, () -> {
            byte[] before = ctx.map().get(k);
            if (before != null) {
                ctx.noteWrite(k, ctx.map().delete(k));
            }
            return before;
        });
        ctx.clients().lookup(old != null);
        out.bulk(old);
    }

    private void setnx(List<byte[]> a) {
        byte[] k = ctx.key(a.get(1));
        byte[] v = ctx.value(a.get(2));
        ctx.checkWritable();
        long lsn = ctx.map().putIfAbsent(k, v);
        ctx.noteWrite(k, lsn);
        out.integer(lsn != FixedStore.UNCHANGED ? 1 : 0);
    }

    private void del(List<byte[]> a) {
        for (int i = 1; i < a.size(); i++) {
            ctx.key(a.get(i));
        }
        ctx.checkWritable();
        long n = 0;
        for (int i = 1; i < a.size(); i++) {
            byte[] k = a.get(i);
            long lsn = ctx.map().delete(k);
            if (lsn != FixedStore.UNCHANGED) {
                n++;
                ctx.noteWrite(k, lsn);
            }
        }
        out.integer(n);
    }

    private void exists(List<byte[]> a) {
        long n = 0;
        for (int i = 1; i < a.size(); i++) {
            n += ctx.map().containsKey(ctx.key(a.get(i))) ? 1 : 0;
        }
        out.integer(n);
    }

    private void mget(List<byte[]> a) {
        for (int i = 1; i < a.size(); i++) {
            ctx.key(a.get(i));
        }
        out.arrayHeader(a.size() - 1);
        for (int i = 1; i < a.size(); i++) {
            byte[] v = ctx.map().get(a.get(i));
            ctx.clients().lookup(v != null);
            out.bulk(v);
        }
    }

    private void mset(List<byte[]> a) {
        if (a.size() % 2 == 0) {
            throw RespContext.wrongArgs(a);
        }
        for (int i = 1; i < a.size(); i += 2) {
            ctx.key(a.get(i));
            ctx.value(a.get(i + 1));
        }
        ctx.checkWritable();
        int pairs = (a.size() - 1) / 2;
        byte[][] keys = new byte[pairs][];
        byte[][] values = new byte[pairs][];
        for (int i = 0; i < pairs; i++) {
            keys[i] = a.get(1 + 2 * i);
            values[i] = a.get(2 + 2 * i);
        }
        // every size checked above, then written with no other writer interleaved (see docs/operations.md)
        long[] lsns = ctx.map().putAllWithoutInterleaving(keys, values);
        for (int i = 0; i < pairs; i++) {
            ctx.noteWrite(keys[i], lsns[i]);
        }
        out.ok();
    }

    /**
     * SCAN cursor [MATCH p] [COUNT n] [TYPE t]. The cursor is {@code shard << 32 | tag}: each shard's keys are
     * walked in the order of their hash tag (see {@link HashIndex#scanTags}), which copy-on-write updates and index
     * rebuilds do not change, so every key present for the whole scan is returned at least once.
     */
    private void scan(List<byte[]> a) {
        long cursor;
        try {
            cursor = Long.parseUnsignedLong(str(a.get(1)));
        } catch (NumberFormatException e) {
            throw new RespArgsException("ERR invalid cursor");
        }
        byte[] match = null;
        int count = DEFAULT_SCAN_COUNT;
        boolean stringsWanted = true;
        for (int i = 2; i < a.size(); i += 2) {
            if (i + 1 >= a.size()) {
                throw new RespArgsException("ERR syntax error");
            }
            byte[] o = a.get(i);
            if (is(o, "MATCH")) {
                match = a.get(i + 1);
            } else if (is(o, "COUNT")) {
                long c = RespContext.parseLong(a.get(i + 1));
                if (c < 1) {
                    throw new RespArgsException("ERR syntax error");
                }
                count = (int) Math.min(c, 1 << 20);
            } else if (is(o, "TYPE")) {
                stringsWanted = lower(a.get(i + 1)).equals("string");
            } else {
                throw new RespArgsException("ERR syntax error");
            }
        }
        int shards = ctx.map().config().shards();
        int shard = (int) Math.min(cursor >>> 32, shards);
        long tag = cursor & 0xFFFF_FFFFL;
        List<byte[]> found = new ArrayList<>();
        while (shard < shards && found.size() < count) {
            Shard s = ctx.map().engine().shard(shard);
            tag = s.scanKeys(tag, count - found.size(), found::add);
            if (tag == HashIndex.TAG_END) {
                shard++;
                tag = 0;
            }
        }
        long next = shard >= shards ? 0 : ((long) shard << 32) | tag;
        List<byte[]> reply = new ArrayList<>(found.size());
        for (byte[] k : found) {
            if (stringsWanted && (match == null || GlobPattern.matches(match, k))) {
                reply.add(k);
            }
        }
        out.arrayHeader(2);
        out.bulk(Long.toUnsignedString(next));
        out.arrayHeader(reply.size());
        for (byte[] k : reply) {
            out.bulk(k);
        }
    }

    private void keys(List<byte[]> a) {
        byte[] pattern = a.get(1);
        List<byte[]> found = new ArrayList<>();
        ctx.map().scan((k, v) -> {
            if (GlobPattern.matches(pattern, k)) {
                found.add(k.clone());
            }
            return true;
        });
        out.arrayHeader(found.size());
        for (byte[] k : found) {
            out.bulk(k);
        }
    }

    private byte[] randomKey() {
        int shards = ctx.map().config().shards();
        ThreadLocalRandom rnd = ThreadLocalRandom.current();
        int shard = rnd.nextInt(shards);
        long tag = rnd.nextLong(HashIndex.TAG_END);
        List<byte[]> found = new ArrayList<>(1);
        for (int tries = 0; tries <= shards && found.isEmpty(); tries++) {
            long end = ctx.map().engine().shard(shard).scanKeys(tag, 1, found::add);
            if (found.isEmpty() && end == HashIndex.TAG_END) {
                shard = (shard + 1) % shards;
                tag = 0;
            } else if (found.isEmpty()) {
                tag = end;
                tries--;
            }
        }
        return found.isEmpty() ? null : found.get(0);
    }

    private void object(List<byte[]> a) {
        byte[] sub = a.get(1);
        if (is(sub, "HELP")) {
            out.arrayHeader(3);
            out.simple("OBJECT ENCODING <key> -- the encoding of the key's value (embstr or raw)");
            out.simple("OBJECT REFCOUNT <key> -- always 1");
            out.simple("OBJECT FREQ <key> -- not tracked (no LFU eviction policy)");
            return;
        }
        if (a.size() != 3) {
            throw new RespArgsException(
                    "ERR unknown subcommand or wrong number of arguments for '" + str(sub) + "'. Try OBJECT HELP.");
        }
        boolean present = ctx.map().containsKey(ctx.key(a.get(2)));
        if (is(sub, "ENCODING")) {
            out.bulk(present ? (ctx.map().config().valueSize() <= 44 ? "embstr" : "raw") : null);
        } else if (is(sub, "REFCOUNT")) {
            if (present) {
                out.integer(1);
            } else {
                out.nullBulk();
            }
        } else if (is(sub, "FREQ")) {
            throw new RespArgsException("ERR An LFU maxmemory policy is not selected, access frequency not tracked."
                    + " armdb does not evict keys.");
        } else {
            throw new RespArgsException("ERR unknown subcommand '" + str(sub)
                    + "'. Try OBJECT HELP (supported: ENCODING, REFCOUNT, FREQ).");
        }
    }

    private void memory(List<byte[]> a) {
        byte[] sub = a.get(1);
        if (is(sub, "USAGE") && (a.size() == 3 || a.size() == 5)) {
            boolean present = ctx.map().containsKey(ctx.key(a.get(2)));
            if (present) {
                out.integer(ctx.map().engine().meta().slotSize());
            } else {
                out.nullBulk();
            }
        } else if (is(sub, "HELP")) {
            out.arrayHeader(1);
            out.simple("MEMORY USAGE <key> -- the bytes of the key's slot");
        } else {
            throw new RespArgsException("ERR unknown subcommand or wrong number of arguments for '" + str(sub)
                    + "'. Try MEMORY HELP (supported: USAGE).");
        }
    }

    /** FLUSHDB / FLUSHALL [ASYNC|SYNC]: deletes every key through the engine, so followers delete them too. */
    private void flush(List<byte[]> a) {
        if (a.size() > 2 || (a.size() == 2 && !is(a.get(1), "ASYNC") && !is(a.get(1), "SYNC"))) {
            throw new RespArgsException("ERR syntax error");
        }
        ctx.checkWritable();
        List<byte[]> batch = new ArrayList<>(FLUSH_BATCH);
        for (int s = 0; s < ctx.map().config().shards(); s++) {
            Shard shard = ctx.map().engine().shard(s);
            long tag = 0;
            while (tag != HashIndex.TAG_END) {
                batch.clear();
                tag = shard.scanKeys(tag, FLUSH_BATCH, batch::add);
                for (byte[] k : batch) {
                    ctx.noteWrite(k, ctx.map().delete(k));
                }
            }
        }
        out.ok();
    }
}
