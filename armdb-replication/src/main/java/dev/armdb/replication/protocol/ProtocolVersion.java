package dev.armdb.replication.protocol;

/** The protocol version this code speaks; both sides must speak the same. Stateless. */
public final class ProtocolVersion {
    /** Current version. */
    public static final int CURRENT = 4;

    private ProtocolVersion() {}
}
