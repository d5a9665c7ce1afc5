package dev.armdb.server;

import static dev.armdb.server.RespContext.is;
import static dev.armdb.server.RespContext.str;

import java.util.List;
import java.util.Locale;

/**
 * The connection commands of one client: PING, ECHO, QUIT, HELLO, AUTH, RESET, SELECT, CLIENT, TIME. Used by one
 * thread at a time, as {@link RespCommands}.
 */
final class ConnectionCommands {
    /** The Redis version HELLO and INFO report: the command set and replies follow Redis 7.2 where supported. */
    static final String REDIS_VERSION = "7.2.0";

    private static final String CLIENT_SUBCOMMANDS =
            "ID, SETNAME, GETNAME, INFO, LIST, KILL, SETINFO, NO-EVICT, NO-TOUCH, REPLY, HELP";

    private final RespContext ctx;
    private final RespWriter out;
    private final TransactionCommands tx;

    ConnectionCommands(RespContext ctx, TransactionCommands tx) {
        this.ctx = ctx;
        this.out = ctx.out;
        this.tx = tx;
    }

    void register(RespCommands.Binder b) {
        b.on("PING", a -> {
            if (a.size() > 2) {
                throw RespContext.wrongArgs(a);
            }
            if (a.size() == 2) {
                out.bulk(a.get(1));
            } else {
                out.simple("PONG");
            }
        });
        b.on("ECHO", a -> out.bulk(a.get(1)));
        b.on("QUIT", a -> {
            out.ok();
            ctx.closeAfterReply = true;
        });
        b.on("HELLO", this::hello);
        b.on("AUTH", this::auth);
        b.on("RESET", a -> reset());
        b.on("SELECT", a -> {
            if (!str(a.get(1)).equals("0")) {
                throw new RespArgsException("ERR DB index is out of range");
            }
            out.ok();
        });
        b.on("CLIENT", this::client);
        b.on("TIME", a -> {
            long micros = java.time.Instant.now().toEpochMilli() * 1000 + (System.nanoTime() / 1000) % 1000;
            out.arrayHeader(2);
            out.bulk(Long.toString(micros / 1_000_000));
            out.bulk(Long.toString(micros % 1_000_000));
        });
    }

    /** HELLO [protover [AUTH user pass] [SETNAME name]]: switches the protocol and answers with the server's map. */
    private void hello(List<byte[]> a) {
        int protocol = ctx.client.protocol();
        if (a.size() > 1) {
            long p;
            try {
                p = Long.parseLong(str(a.get(1)));
            } catch (NumberFormatException e) {
                throw new RespArgsException("ERR Protocol version is not an integer or out of range");
            }
            if (p != 2 && p != 3) {
                throw new RespArgsException("NOPROTO unsupported protocol version");
            }
            protocol = (int) p;
        }
        byte[] user = null;
        byte[] pass = null;
        String name = null;
        for (int i = 2; i < a.size(); i++) {
            boolean more = i + 1 < a.size();
            if (is(a.get(i), "AUTH") && i + 2 < a.size()) {
                user = a.get(i + 1);
                pass = a.get(i + 2);
                i += 2;
            } else if (is(a.get(i), "SETNAME") && more) {
                name = validName(a.get(i + 1));
                i++;
            } else {
                throw new RespArgsException("ERR Syntax error in HELLO option '" + str(a.get(i)) + "'");
            }
        }
        if (pass != null) {
            authenticate(user, pass);
        } else if (!ctx.client.authenticated()) {
            throw new RespArgsException("NOAUTH HELLO must be called with the client already authenticated, otherwise"
                    + " the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select"
                    + " the RESP protocol version at the same time");
        }
        if (name != null) {
            ctx.client.name(name);
        }
        ctx.client.protocol(protocol);
        out.protocol(protocol);
        out.mapHeader(7);
        out.bulk("server");
        out.bulk("redis");
        out.bulk("version");
        out.bulk(REDIS_VERSION);
        out.bulk("proto");
        out.integer(protocol);
        out.bulk("id");
        out.integer(ctx.client.id());
        out.bulk("mode");
        out.bulk("standalone");
        out.bulk("role");
        out.bulk(ctx.node.showsAsReplica() ? "replica" : "master");
        out.bulk("modules");
        out.arrayHeader(0);
    }

    /** AUTH [user] password. */
    private void auth(List<byte[]> a) {
        if (a.size() > 3) {
            throw new RespArgsException("ERR syntax error");
        }
        if (ctx.node.config().requirePass() == null && a.size() == 2) {
            throw new RespArgsException("ERR AUTH <password> called without any password configured for the default"
                    + " user. Are you sure your configuration is correct?");
        }
        authenticate(a.size() == 3 ? a.get(1) : null, a.get(a.size() - 1));
        out.ok();
    }

    /** Authenticates as {@code user} (null: default) or throws WRONGPASS, leaving the client as it was. */
    private void authenticate(byte[] user, byte[] pass) {
        RespPassword required = ctx.node.config().requirePass();
        boolean userOk = user == null || str(user).equals("default");
        boolean passOk = required == null || required.matches(pass);
        if (!userOk || !passOk) {
            throw new RespArgsException("WRONGPASS invalid username-password pair or user is disabled.");
        }
        ctx.client.authenticated(true);
    }

    /** RESET: as a fresh connection (RESP2, no name, no transaction, reply on, authenticated only without password). */
    private void reset() {
        tx.reset();
        ctx.client.name("");
        ctx.client.protocol(2);
        out.protocol(2);
        ctx.client.replyMode(RespClient.ReplyMode.ON);
        ctx.client.authenticated(ctx.node.config().requirePass() == null);
        out.simple("RESET");
    }

    private static String validName(byte[] n) {
        for (byte c : n) {
            if (c < '!' || c > '~') {
                throw new RespArgsException("ERR Client names cannot contain spaces, newlines or special characters.");
            }
        }
        return str(n);
    }

    private void client(List<byte[]> a) {
        String sub = str(a.get(1)).toUpperCase(Locale.ROOT);
        switch (sub) {
            case "ID" -> out.integer(ctx.client.id());
            case "SETNAME" -> {
                ctx.client.name(validName(arg(a, 3)));
                out.ok();
            }
            case "GETNAME" -> out.bulk(ctx.client.name().isEmpty() ? null : ctx.client.name());
            case "INFO" -> out.verbatim(ctx.client.describe() + "\n");
            case "LIST" -> clientList();
            case "KILL" -> clientKill(a);
            case "SETINFO" -> setInfo(a);
            case "NO-EVICT", "NO-TOUCH" -> {
                byte[] onOff = arg(a, 3);
                if (!is(onOff, "ON") && !is(onOff, "OFF")) {
                    throw new RespArgsException("ERR syntax error");
                }
                out.ok();
            }
            case "REPLY" -> clientReply(arg(a, 3));
            case "HELP" -> {
                out.arrayHeader(1);
                out.simple("CLIENT <subcommand>: " + CLIENT_SUBCOMMANDS);
            }
            default ->
                throw new RespArgsException(
                        "ERR CLIENT " + sub + " is not supported by armdb (supported: " + CLIENT_SUBCOMMANDS + ")");
        }
    }

    private static byte[] arg(List<byte[]> a, int size) {
        if (a.size() != size) {
            throw new RespArgsException("ERR unknown subcommand or wrong number of arguments for '" + str(a.get(1))
                    + "'. Try CLIENT HELP.");
        }
        return a.get(size - 1);
    }

    private void clientList() {
        StringBuilder sb = new StringBuilder();
        for (RespClient c : ctx.clients().list()) {
            sb.append(c.describe()).append('\n');
        }
        out.verbatim(sb.toString());
    }

    /** CLIENT KILL addr (old form, +OK) or CLIENT KILL [ID id] [ADDR addr] [SKIPME yes|no] ... (new, a count). */
    private void clientKill(List<byte[]> a) {
        if (a.size() == 3) {
            int killed = kill(null, str(a.get(2)), false);
            if (killed == 0) {
                throw new RespArgsException("ERR No such client");
            }
            out.ok();
            return;
        }
        if (a.size() < 4 || a.size() % 2 != 0) {
            throw new RespArgsException("ERR syntax error");
        }
        Long id = null;
        String addr = null;
        boolean skipMe = true;
        for (int i = 2; i < a.size(); i += 2) {
            String opt = str(a.get(i)).toUpperCase(Locale.ROOT);
            String v = str(a.get(i + 1));
            switch (opt) {
                case "ID" -> id = RespContext.parseLong(a.get(i + 1));
                case "ADDR" -> addr = v;
                case "SKIPME" -> skipMe = !v.equalsIgnoreCase("no");
                case "USER", "TYPE" -> {
                    if (!v.equalsIgnoreCase("default") && !v.equalsIgnoreCase("normal")) {
                        out.integer(0);
                        return;
                    }
                }
                default ->
                    throw new RespArgsException("ERR CLIENT KILL filter " + opt + " is not supported by armdb"
                            + " (supported: ID, ADDR, SKIPME, USER default, TYPE normal)");
            }
        }
        out.integer(kill(id, addr, skipMe));
    }

    private int kill(Long id, String addr, boolean skipMe) {
        int n = 0;
        for (RespClient c : ctx.clients().list()) {
            boolean self = c == ctx.client;
            if ((id != null && c.id() != id) || (addr != null && !c.address().equals(addr)) || (self && skipMe)) {
                continue;
            }
            n++;
            if (self) {
                ctx.closeAfterReply = true;
            } else {
                c.kill();
            }
        }
        return n;
    }

    private void setInfo(List<byte[]> a) {
        byte[] value = arg(a, 4);
        if (is(a.get(2), "LIB-NAME")) {
            ctx.client.library(validName(value), null);
        } else if (is(a.get(2), "LIB-VER")) {
            ctx.client.library(null, validName(value));
        } else {
            throw new RespArgsException("ERR Unrecognized option '" + str(a.get(2)) + "'");
        }
        out.ok();
    }

    private void clientReply(byte[] mode) {
        if (is(mode, "ON")) {
            ctx.client.replyMode(RespClient.ReplyMode.ON);
            out.ok();
        } else if (is(mode, "OFF")) {
            ctx.client.replyMode(RespClient.ReplyMode.OFF);
        } else if (is(mode, "SKIP")) {
            ctx.client.replyMode(RespClient.ReplyMode.SKIP);
        } else {
            throw new RespArgsException("ERR syntax error");
        }
    }
}
