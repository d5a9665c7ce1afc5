package dev.armdb.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The one table of the RESP commands this node serves: name, arity, flags and key positions as {@code COMMAND INFO}
 * reports them, and the properties dispatch needs (may it wait, does it touch the whole key space). Dispatch, the
 * transaction's shard locking and {@code COMMAND}/{@code COMMAND DOCS} all read this table, so they cannot disagree.
 * Immutable; safe for any thread.
 */
final class RespCommandTable {
    /** A flag of a command. The first group are Redis's own flags, reported by COMMAND INFO in lower case. */
    enum Flag {
        WRITE,
        READONLY,
        DENYOOM,
        ADMIN,
        NOSCRIPT,
        LOADING,
        STALE,
        FAST,
        NO_AUTH,
        NO_MULTI,
        ALLOW_BUSY,
        /** Not Redis's: may wait (for replicas, a role change, a full pass or a forced write), so runs off the loop. */
        MAY_WAIT,
        /** Not Redis's: reads or writes the whole key space, so a transaction containing it locks every shard. */
        ALL_KEYS;

        boolean reported() {
            return ordinal() < MAY_WAIT.ordinal();
        }

        String redisName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * One command.
     *
     * @param name upper case
     * @param arity Redis's arity: {@code n} exactly n arguments including the name, {@code -n} at least n
     * @param firstKey position of the first key (0: none)
     * @param lastKey position of the last key (-1: the last argument)
     * @param step distance between keys
     * @param group Redis's command group, for COMMAND DOCS
     * @param summary one line, for COMMAND DOCS
     * @param subcommands the subcommands served, upper case (empty: none)
     */
    record Spec(
            int id,
            String name,
            int arity,
            List<Flag> flags,
            int firstKey,
            int lastKey,
            int step,
            String group,
            String summary,
            List<String> subcommands) {
        boolean has(Flag f) {
            return flags.contains(f);
        }

        /** True if {@code argc} arguments (the name included) fit the arity. */
        boolean arityAccepts(int argc) {
            return arity >= 0 ? argc == arity : argc >= -arity;
        }

        /** The positions of the keys in a request of {@code argc} arguments, by {@link #firstKey} .. {@link #lastKey}. */
        int lastKeyIn(int argc) {
            return lastKey < 0 ? argc + lastKey : Math.min(lastKey, argc - 1);
        }
    }

    private static final List<Spec> SPECS = new ArrayList<>();
    private static final Spec[] BUCKETS;

    static {
        Flag w = Flag.WRITE;
        Flag r = Flag.READONLY;
        Flag f = Flag.FAST;
        Flag d = Flag.DENYOOM;
        Flag l = Flag.LOADING;
        Flag s = Flag.STALE;
        Flag n = Flag.NOSCRIPT;
        // connection
        add("PING", -1, 0, 0, 0, "connection", "Returns the server's liveliness response.", f);
        add("ECHO", 2, 0, 0, 0, "connection", "Returns the given string.", f);
        add("QUIT", -1, 0, 0, 0, "connection", "Closes the connection.", Flag.NO_AUTH, l, s, f, Flag.ALLOW_BUSY);
        add(
                "HELLO",
                -1,
                0,
                0,
                0,
                "connection",
                "Handshakes with the server (protocol, auth, name).",
                n,
                l,
                s,
                f,
                Flag.NO_AUTH,
                Flag.ALLOW_BUSY);
        add(
                "AUTH",
                -2,
                0,
                0,
                0,
                "connection",
                "Authenticates the connection.",
                n,
                l,
                s,
                f,
                Flag.NO_AUTH,
                Flag.ALLOW_BUSY);
        add("RESET", 1, 0, 0, 0, "connection", "Resets the connection.", n, l, s, f, Flag.NO_AUTH, Flag.ALLOW_BUSY);
        add("SELECT", 2, 0, 0, 0, "connection", "Changes the selected database (only 0 exists).", l, s, f);
        addWithSubcommands(
                "CLIENT",
                -2,
                "connection",
                "Inspects and configures client connections.",
                List.of(
                        "ID",
                        "SETNAME",
                        "GETNAME",
                        "INFO",
                        "LIST",
                        "KILL",
                        "SETINFO",
                        "NO-EVICT",
                        "NO-TOUCH",
                        "REPLY",
                        "HELP"),
                n,
                l,
                s);
        // string and generic key commands
        add("GET", 2, 1, 1, 1, "string", "Returns the value of a key.", r, f);
        add("SET", -3, 1, 1, 1, "string", "Sets the value of a key (NX, XX, GET; no expiry).", w, d);
        add("SETNX", 3, 1, 1, 1, "string", "Sets the value of a key only if it does not exist.", w, d, f);
        add("GETSET", 3, 1, 1, 1, "string", "Sets a key's value and returns the old one.", w, d, f);
        add("GETDEL", 2, 1, 1, 1, "string", "Returns a key's value and deletes it.", w, f);
        add("STRLEN", 2, 1, 1, 1, "string", "Returns the length of a key's value.", r, f);
        add("MGET", -2, 1, -1, 1, "string", "Returns the values of keys.", r, f);
        add("MSET", -3, 1, -1, 2, "string", "Sets the values of keys.", w, d);
        add("DEL", -2, 1, -1, 1, "generic", "Deletes keys.", w);
        add("UNLINK", -2, 1, -1, 1, "generic", "Deletes keys (as DEL: deletes are cheap here).", w, f);
        add("EXISTS", -2, 1, -1, 1, "generic", "Counts the keys that exist.", r, f);
        add("TYPE", 2, 1, 1, 1, "generic", "Returns the type of a key (string or none).", r, f);
        add("TTL", 2, 1, 1, 1, "generic", "Returns -1 for a key (keys do not expire), -2 if absent.", r, f);
        add("PTTL", 2, 1, 1, 1, "generic", "Returns -1 for a key (keys do not expire), -2 if absent.", r, f);
        add("EXPIRETIME", 2, 1, 1, 1, "generic", "Returns -1 for a key (keys do not expire), -2 if absent.", r, f);
        add("PEXPIRETIME", 2, 1, 1, 1, "generic", "Returns -1 for a key (keys do not expire), -2 if absent.", r, f);
        for (String expiring : List.of("EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT")) {
            add(expiring, -3, 1, 1, 1, "generic", "Not supported: keys do not expire.", w, f);
        }
        add("PERSIST", 2, 1, 1, 1, "generic", "Not supported: keys do not expire.", w, f);
        add("SETEX", 4, 1, 1, 1, "string", "Not supported: keys do not expire.", w, d);
        add("PSETEX", 4, 1, 1, 1, "string", "Not supported: keys do not expire.", w, d);
        add("GETEX", -2, 1, 1, 1, "string", "Returns a key's value; expiry options are not supported.", w, f);
        add("DBSIZE", 1, 0, 0, 0, "server", "Returns the number of keys.", r, f);
        add("SCAN", -2, 0, 0, 0, "generic", "Iterates over the keys (MATCH, COUNT, TYPE).", r);
        add("KEYS", 2, 0, 0, 0, "generic", "Returns the keys matching a pattern.", r, Flag.ALL_KEYS);
        add("RANDOMKEY", 1, 0, 0, 0, "generic", "Returns a random key.", r, Flag.ALL_KEYS);
        addWithSubcommands(
                "OBJECT",
                -2,
                "generic",
                "Inspects a key's object.",
                List.of("ENCODING", "FREQ", "REFCOUNT", "HELP"),
                r);
        addWithSubcommands("MEMORY", -2, "server", "Reports memory use.", List.of("USAGE", "HELP"), r);
        add(
                "FLUSHDB",
                -1,
                0,
                0,
                0,
                "server",
                "Deletes every key (replicated, one delete per key).",
                w,
                Flag.NO_MULTI,
                Flag.MAY_WAIT,
                Flag.ALL_KEYS);
        add(
                "FLUSHALL",
                -1,
                0,
                0,
                0,
                "server",
                "Deletes every key (replicated, one delete per key).",
                w,
                Flag.NO_MULTI,
                Flag.MAY_WAIT,
                Flag.ALL_KEYS);
        // transactions
        add("MULTI", 1, 0, 0, 0, "transactions", "Starts a transaction.", n, l, s, f, Flag.ALLOW_BUSY);
        add("EXEC", 1, 0, 0, 0, "transactions", "Executes the queued commands.", n, l, s);
        add("DISCARD", 1, 0, 0, 0, "transactions", "Discards the queued commands.", n, l, s, f, Flag.ALLOW_BUSY);
        add(
                "WATCH",
                -2,
                1,
                -1,
                1,
                "transactions",
                "Aborts the next EXEC if a key changes.",
                n,
                l,
                s,
                f,
                Flag.ALLOW_BUSY);
        add("UNWATCH", 1, 0, 0, 0, "transactions", "Forgets the watched keys.", n, l, s, f, Flag.ALLOW_BUSY);
        // server
        add("INFO", -1, 0, 0, 0, "server", "Returns information and statistics.", l, s);
        addWithSubcommands(
                "CONFIG", -2, "server", "Reads configuration (GET only).", List.of("GET"), Flag.ADMIN, n, l, s);
        addWithSubcommands(
                "DEBUG",
                -2,
                "server",
                "DIGEST: a digest of the whole collection.",
                List.of("DIGEST"),
                Flag.ADMIN,
                n,
                l,
                s,
                Flag.NO_MULTI,
                Flag.MAY_WAIT);
        add(
                "SHUTDOWN",
                -1,
                0,
                0,
                0,
                "server",
                "Stops a node run as a process, after its followers acknowledged the last writes (NOW: at once).",
                Flag.ADMIN,
                n,
                l,
                s,
                Flag.NO_MULTI,
                Flag.ALLOW_BUSY,
                Flag.MAY_WAIT);
        add("ROLE", 1, 0, 0, 0, "server", "Returns the replication role.", n, l, s, f);
        add(
                "REPLICAOF",
                3,
                0,
                0,
                0,
                "server",
                "Follows a leader, or NO ONE: becomes leader.",
                Flag.ADMIN,
                n,
                s,
                Flag.NO_MULTI,
                Flag.MAY_WAIT);
        add("SLAVEOF", 3, 0, 0, 0, "server", "Alias of REPLICAOF.", Flag.ADMIN, n, s, Flag.NO_MULTI, Flag.MAY_WAIT);
        add(
                "WAIT",
                3,
                0,
                0,
                0,
                "generic",
                "Waits for this client's writes to reach replicas.",
                Flag.NO_MULTI,
                Flag.MAY_WAIT);
        add("TIME", 1, 0, 0, 0, "server", "Returns the server time.", l, s, f);
        addWithSubcommands(
                "COMMAND",
                -1,
                "server",
                "Describes the commands.",
                List.of("COUNT", "INFO", "DOCS", "LIST", "HELP"),
                l,
                s);
        BUCKETS = new Spec[Integer.highestOneBit(SPECS.size()) * 8];
        for (Spec spec : SPECS) {
            byte[] name = spec.name().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            int i = hash(name, 0, name.length) & (BUCKETS.length - 1);
            while (BUCKETS[i] != null) {
                i = (i + 1) & (BUCKETS.length - 1);
            }
            BUCKETS[i] = spec;
        }
    }

    private RespCommandTable() {}

    private static void add(
            String name, int arity, int first, int last, int step, String group, String summary, Flag... flags) {
        SPECS.add(new Spec(SPECS.size(), name, arity, List.of(flags), first, last, step, group, summary, List.of()));
    }

    private static void addWithSubcommands(
            String name, int arity, String group, String summary, List<String> subcommands, Flag... flags) {
        SPECS.add(new Spec(SPECS.size(), name, arity, List.of(flags), 0, 0, 0, group, summary, subcommands));
    }

    /** Every command, in table order. */
    static List<Spec> all() {
        return Collections.unmodifiableList(SPECS);
    }

    /** Number of commands. */
    static int size() {
        return SPECS.size();
    }

    /** The command named {@code name} (any case), or null. Allocation-free. */
    static Spec find(byte[] name) {
        return find(name, 0, name.length);
    }

    /**
     * The command named by the {@code length} bytes at {@code offset} of {@code buf} (any case), or null: a parsed
     * request's name is looked up in place, without a copy or a String. Allocation-free.
     */
    static Spec find(byte[] buf, int offset, int length) {
        int i = hash(buf, offset, length) & (BUCKETS.length - 1);
        for (Spec s; (s = BUCKETS[i]) != null; i = (i + 1) & (BUCKETS.length - 1)) {
            if (equalsIgnoreCase(buf, offset, length, s.name())) {
                return s;
            }
        }
        return null;
    }

    /** The command named {@code name} (any case), or null. */
    static Spec find(String name) {
        return find(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static int hash(byte[] buf, int offset, int length) {
        int h = length;
        for (int i = offset; i < offset + length; i++) {
            h = 31 * h + upper(buf[i]);
        }
        return h ^ (h >>> 16);
    }

    private static int upper(byte b) {
        return b >= 'a' && b <= 'z' ? b - 32 : b;
    }

    /** True if {@code name} equals {@code upperCase} ignoring ASCII case. Allocation-free. */
    static boolean equalsIgnoreCase(byte[] name, String upperCase) {
        return equalsIgnoreCase(name, 0, name.length, upperCase);
    }

    private static boolean equalsIgnoreCase(byte[] buf, int offset, int length, String upperCase) {
        if (length != upperCase.length()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            if (upper(buf[offset + i]) != upperCase.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The flags COMMAND INFO reports for {@code spec}. */
    static List<String> reportedFlags(Spec spec) {
        return spec.flags().stream().filter(Flag::reported).map(Flag::redisName).toList();
    }
}
