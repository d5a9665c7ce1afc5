package dev.armdb.server;

import java.net.InetSocketAddress;

/**
 * What the node knows of one RESP connection: its id, name, library, protocol, authentication, reply mode and last
 * command, as CLIENT INFO/LIST report them, and how to close it (CLIENT KILL). The connection's thread changes it;
 * other threads (CLIENT LIST of another client) read it through volatile fields and may see a field a moment old.
 */
final class RespClient {
    /** CLIENT REPLY mode. */
    enum ReplyMode {
        ON,
        OFF,
        /** The next command's reply is dropped, then ON again. */
        SKIP
    }

    private final long id;
    private final InetSocketAddress remote;
    private final InetSocketAddress local;
    private final long createdMillis = System.currentTimeMillis();
    private final Runnable kill;
    private volatile String name = "";
    private volatile String libName = "";
    private volatile String libVersion = "";
    private volatile int protocol = 2;
    private volatile boolean authenticated;
    private volatile ReplyMode replyMode = ReplyMode.ON;
    private volatile String lastCommand = "NULL";
    private volatile long lastCommandMillis = createdMillis;
    private volatile boolean inMulti;
    private volatile int watchedKeys;

    /**
     * A connection with id {@code id} from {@code remote} to {@code local}; {@code kill} closes it from any thread.
     */
    RespClient(long id, InetSocketAddress remote, InetSocketAddress local, boolean authenticated, Runnable kill) {
        this.id = id;
        this.remote = remote;
        this.local = local;
        this.authenticated = authenticated;
        this.kill = kill;
    }

    long id() {
        return id;
    }

    InetSocketAddress remote() {
        return remote;
    }

    /** The client's address as CLIENT LIST shows it and CLIENT KILL ADDR takes it: {@code ip:port}. */
    String address() {
        return address(remote);
    }

    String name() {
        return name;
    }

    void name(String n) {
        name = n;
    }

    void library(String libraryName, String libraryVersion) {
        if (libraryName != null) {
            libName = libraryName;
        }
        if (libraryVersion != null) {
            libVersion = libraryVersion;
        }
    }

    int protocol() {
        return protocol;
    }

    void protocol(int p) {
        protocol = p;
    }

    boolean authenticated() {
        return authenticated;
    }

    void authenticated(boolean a) {
        authenticated = a;
    }

    ReplyMode replyMode() {
        return replyMode;
    }

    void replyMode(ReplyMode m) {
        replyMode = m;
    }

    void commandStarted(String command) {
        lastCommand = command;
        lastCommandMillis = System.currentTimeMillis();
    }

    void transaction(boolean multi, int watched) {
        inMulti = multi;
        watchedKeys = watched;
    }

    /** Closes the connection soon. Any thread. */
    void kill() {
        kill.run();
    }

    /** One line of CLIENT LIST / the text of CLIENT INFO, in Redis's field order (fields we lack read 0). */
    String describe() {
        long now = System.currentTimeMillis();
        return "id=" + id + " addr=" + address(remote) + " laddr=" + address(local) + " fd=-1 name=" + name
                + " age=" + (now - createdMillis) / 1000 + " idle=" + (now - lastCommandMillis) / 1000
                + " flags=" + (inMulti ? "x" : "N") + " db=0 sub=0 psub=0 ssub=0 multi=" + (inMulti ? 0 : -1)
                + " watch=" + watchedKeys + " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0"
                + " omem=0 tot-mem=0 events=r cmd=" + lastCommand.toLowerCase(java.util.Locale.ROOT)
                + " user=default redir=-1 resp=" + protocol + " lib-name=" + libName + " lib-ver=" + libVersion;
    }

    private static String address(InetSocketAddress a) {
        if (a == null) {
            return "?:0";
        }
        String host =
                a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return host + ":" + a.getPort();
    }
}
