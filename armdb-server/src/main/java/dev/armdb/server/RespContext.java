package dev.armdb.server;

import dev.armdb.FixedMap;
import dev.armdb.index.KeyHash;
import dev.armdb.store.Shard;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * What the command families of one RESP connection share: the node, the reply writer, the client's state, the
 * checks every command makes on keys and values, and the last LSN this client wrote per shard (for WAIT). Used by
 * one thread at a time, as {@link RespCommands}.
 */
final class RespContext {
    static final String READONLY = "READONLY You can't write against a read only replica.";

    final Node node;
    final RespWriter out;
    final RespClient client;
    final long[] lastWriteLsn;
    /** Set by a command whose reply is the connection's last (QUIT, CLIENT KILL of itself). */
    boolean closeAfterReply;
    /** This client wrote since its replies were last released (see {@link WriteGate#holdsReplies()}). */
    boolean unackedWrites;
    /** Per shard, the highest LSN this client wrote since then (0: none). */
    final long[] unackedLsn;

    RespContext(Node node, RespWriter out, RespClient client) {
        this.node = node;
        this.out = out;
        this.client = client;
        this.lastWriteLsn = new long[node.map().config().shards()];
        this.unackedLsn = new long[lastWriteLsn.length];
    }

    FixedMap map() {
        return node.map();
    }

    RespClients clients() {
        return node.respClients();
    }

    static String str(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static String lower(byte[] b) {
        return str(b).toLowerCase(Locale.ROOT);
    }

    static boolean is(byte[] arg, String upperCase) {
        return RespCommandTable.equalsIgnoreCase(arg, upperCase);
    }

    static RespArgsException wrongArgs(List<byte[]> args) {
        return new RespArgsException("ERR wrong number of arguments for '" + lower(args.get(0)) + "' command");
    }

    static long parseLong(byte[] b) {
        try {
            return Long.parseLong(str(b));
        } catch (NumberFormatException e) {
            throw new RespArgsException("ERR value is not an integer or out of range");
        }
    }

    byte[] key(byte[] k) {
        int size = map().config().keySize();
        if (k.length != size) {
            throw new RespArgsException("ERR key must be exactly " + size + " bytes (got " + k.length + ")");
        }
        return k;
    }

    byte[] value(byte[] v) {
        int size = map().config().valueSize();
        if (v.length != size) {
            throw new RespArgsException("ERR value must be exactly " + size + " bytes (got " + v.length + ")");
        }
        return v;
    }

    void checkWritable() {
        if (map().engine().isReplica()) {
            throw new RespArgsException(READONLY);
        }
        String refused = node.gate().refuseWrite();
        if (refused != null) {
            throw new RespArgsException(refused);
        }
    }

    int shardOf(byte[] key) {
        return map().engine().shardOf(key, KeyHash.hash(key));
    }

    /** Remembers that this client wrote {@code key} at {@code lsn} ({@link dev.armdb.FixedStore#UNCHANGED}: nothing written). */
    void noteWrite(byte[] key, long lsn) {
        if (lsn != 0) {
            int s = shardOf(key);
            lastWriteLsn[s] = Math.max(lastWriteLsn[s], lsn);
            unackedLsn[s] = Math.max(unackedLsn[s], lsn);
            unackedWrites = true;
        }
    }

    /**
     * Runs {@code body} holding the writer lock of {@code key}'s shard, so a read and a write of the key in it are
     * one atomic step (SET XX/GET, GETSET, GETDEL). The lock is reentrant: inside EXEC it is already held.
     */
    <T> T withKeyLocked(byte[] key, Supplier<T> body) {
        Shard shard = map().engine().shard(shardOf(key));
        shard.lockForTransaction();
        try {
            return body.get();
        } finally {
            shard.unlockForTransaction();
        }
    }
}
