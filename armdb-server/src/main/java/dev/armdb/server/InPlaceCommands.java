package dev.armdb.server;

import dev.armdb.FixedMap;
import dev.armdb.FixedStore;

/**
 * The hot key commands (GET, SET without options, MGET, DEL, EXISTS) run straight from a parsed {@link RespRequest}:
 * keys and values are copied from the request's slices into this connection's reused key and value arrays of the
 * collection's sizes, the engine reads into and writes from those arrays, and the replies are encoded from them, so
 * such a request allocates nothing. Only well-formed requests are taken ({@link #accepts}): one with a wrong size, an
 * option, or a write on a replica is left to the generic handlers in {@link KeyCommands}, which give the errors. Their
 * replies are the same bytes as those handlers'. Used by one thread at a time, as {@link RespCommands}.
 */
final class InPlaceCommands {
    private static final RespCommandTable.Spec GET = RespCommandTable.find("GET");
    private static final RespCommandTable.Spec SET = RespCommandTable.find("SET");
    private static final RespCommandTable.Spec MGET = RespCommandTable.find("MGET");
    private static final RespCommandTable.Spec DEL = RespCommandTable.find("DEL");
    private static final RespCommandTable.Spec EXISTS = RespCommandTable.find("EXISTS");

    private final RespContext ctx;
    private final RespWriter out;
    private final FixedMap map;
    private final byte[] key;
    private final byte[] value;

    InPlaceCommands(RespContext ctx) {
        this.ctx = ctx;
        this.out = ctx.out;
        this.map = ctx.map();
        this.key = new byte[map.config().keySize()];
        this.value = new byte[map.config().valueSize()];
    }

    /**
     * True if {@code r}, a request for {@code spec}, is one this class runs: a hot command with its arity, every key
     * and value of the collection's size, and no write on a replica or refused by the node's
     * {@link WriteGate} (a write taken counts as admitted there, see {@link WriteGate#admitWrite()}). Writes nothing.
     */
    boolean accepts(RespCommandTable.Spec spec, RespRequest r) {
        int argc = r.argc();
        if (spec == GET) {
            return argc == 2 && fits(r, 1, key.length);
        }
        if (spec == SET) {
            return argc == 3 && fits(r, 1, key.length) && fits(r, 2, value.length) && writable();
        }
        if (spec == MGET || spec == EXISTS) {
            return argc >= 2 && keysFit(r);
        }
        if (spec == DEL) {
            return argc >= 2 && keysFit(r) && writable();
        }
        return false;
    }

    /** True if a write may run here, which it then does; otherwise the general path answers why not. */
    private boolean writable() {
        return !map.engine().isReplica() && ctx.node.gate().admitWrite();
    }

    /** Runs {@code r}, which {@link #accepts} took, writing its reply. */
    void run(RespCommandTable.Spec spec, RespRequest r) {
        if (spec == GET) {
            get(r);
        } else if (spec == SET) {
            set(r);
        } else if (spec == MGET) {
            mget(r);
        } else if (spec == DEL) {
            del(r);
        } else {
            exists(r);
        }
    }

    private void get(RespRequest r) {
        load(r, 1, key);
        boolean hit = map.get(key, value);
        ctx.clients().lookup(hit);
        bulkOrNull(hit);
    }

    private void set(RespRequest r) {
        load(r, 1, key);
        load(r, 2, value);
        ctx.noteWrite(key, map.put(key, value));
        out.ok();
    }

    private void mget(RespRequest r) {
        out.arrayHeader(r.argc() - 1);
        for (int i = 1; i < r.argc(); i++) {
            load(r, i, key);
            boolean hit = map.get(key, value);
            ctx.clients().lookup(hit);
            bulkOrNull(hit);
        }
    }

    private void del(RespRequest r) {
        long n = 0;
        for (int i = 1; i < r.argc(); i++) {
            load(r, i, key);
            long lsn = map.delete(key);
            if (lsn != FixedStore.UNCHANGED) {
                n++;
                ctx.noteWrite(key, lsn);
            }
        }
        out.integer(n);
    }

    private void exists(RespRequest r) {
        long n = 0;
        for (int i = 1; i < r.argc(); i++) {
            load(r, i, key);
            n += map.containsKey(key) ? 1 : 0;
        }
        out.integer(n);
    }

    private void bulkOrNull(boolean hit) {
        if (hit) {
            out.bulk(value);
        } else {
            out.nullBulk();
        }
    }

    private static boolean fits(RespRequest r, int i, int size) {
        return r.length(i) == size;
    }

    private boolean keysFit(RespRequest r) {
        for (int i = 1; i < r.argc(); i++) {
            if (r.length(i) != key.length) {
                return false;
            }
        }
        return true;
    }

    private static void load(RespRequest r, int i, byte[] into) {
        System.arraycopy(r.buffer(), r.offset(i), into, 0, into.length);
    }
}
