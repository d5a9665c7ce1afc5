package dev.armdb.cluster;

import dev.armdb.ArmDbCorruptException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Layout of a group's state znode ({@code /groups/G/state}), written only by the controller. Little-endian; strings
 * are a u16 byte length followed by that many UTF-8 bytes (node ids: ASCII {@code A-Z a-z 0-9 . _ -}, at most 64).
 *
 * <pre>
 *  0                               8               12              16                              24
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  |      magic "ARMDBGRP"         | format version|  min in-sync  |             term              |
 *  +-------------------------------+---------------+---------------+-------------------------------+
 *  24                              32
 *  |  last failover (epoch millis) | leader (string) | ISR count (u16) | ISR node ids (strings) |
 *  +-------------------------------+-----------------+-----------------+------------------------+
 *  | reason (string) | last failover's reason (string) | CRC32C (u32) of every byte before it |
 *  +-----------------+---------------------------------+--------------------------------------+
 * </pre>
 *
 * Format 1 had no last failover's reason; it is still read (the reason then reads as empty) and never written.
 *
 * <p>Stateless.
 */
public final class GroupStateLayout {
    /** "ARMDBGRP" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'G', 'R', 'P'};
    /** Format version written. */
    public static final int FORMAT_VERSION = 2;
    /** The oldest format version read: format 1 lacks the last failover's reason. */
    public static final int OLDEST_READ_VERSION = 1;
    /** Offset of the version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the minimum in-sync count. */
    public static final int MIN_INSYNC_OFFSET = 12;
    /** Offset of the term. */
    public static final int TERM_OFFSET = 16;
    /** Offset of the last failover's time. */
    public static final int LAST_FAILOVER_OFFSET = 24;
    /** Offset of the leader's node id, the first variable field. */
    public static final int LEADER_OFFSET = 32;
    /** Most ISR members a state holds. */
    public static final int MAX_MEMBERS = 255;
    /** Longest reason kept, in characters. */
    public static final int MAX_REASON_CHARS = 400;
    /** Largest encoded state: well under ZooKeeper's 1 MiB znode limit. */
    public static final int MAX_SIZE =
            LEADER_OFFSET + 2 + (MAX_MEMBERS + 1) * (2 + NodeIds.MAX_LENGTH) + 2 + 2 * (2 + MAX_REASON_CHARS * 3) + 4;

    private GroupStateLayout() {}

    /** The znode's bytes for {@code s}. */
    public static byte[] encode(GroupState s) {
        ByteBuffer b = ByteBuffer.allocate(MAX_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC)
                .putInt(FORMAT_VERSION)
                .putInt(s.minInsync())
                .putLong(s.term())
                .putLong(s.lastFailoverMillis());
        putString(b, s.leader());
        b.putShort((short) s.isr().size());
        for (String id : s.isr()) {
            putString(b, id);
        }
        putString(b, s.reason());
        putString(b, s.lastFailoverReason());
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return Arrays.copyOf(b.array(), b.position());
    }

    /**
     * Decodes a znode's bytes.
     *
     * @throws ArmDbCorruptException if they are not a group state of format {@value #OLDEST_READ_VERSION} to {@value
     *     #FORMAT_VERSION}, fail their CRC, or hold fields out of range
     */
    public static GroupState decode(byte[] bytes) {
        if (bytes.length < LEADER_OFFSET + 4 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException("not an armdb group state: expected magic ARMDBGRP and at least "
                    + (LEADER_OFFSET + 4) + " bytes, got " + bytes.length + " bytes");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int version = b.getInt(VERSION_OFFSET);
        if (version < OLDEST_READ_VERSION || version > FORMAT_VERSION) {
            throw new ArmDbCorruptException("group state format " + version + " is not one this node reads, "
                    + OLDEST_READ_VERSION + ".." + FORMAT_VERSION);
        }
        checkCrc(bytes, "group state");
        try {
            b.position(LEADER_OFFSET).limit(bytes.length - 4);
            String leader = getString(b);
            int n = Short.toUnsignedInt(b.getShort());
            List<String> isr = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                isr.add(getString(b));
            }
            String reason = getString(b);
            String lastFailoverReason = version >= 2 ? getString(b) : "";
            if (b.hasRemaining()) {
                throw new ArmDbCorruptException(
                        "group state has " + b.remaining() + " bytes after its last field, expected none");
            }
            return new GroupState(
                    b.getLong(TERM_OFFSET),
                    leader,
                    isr,
                    b.getInt(MIN_INSYNC_OFFSET),
                    b.getLong(LAST_FAILOVER_OFFSET),
                    reason,
                    lastFailoverReason);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new ArmDbCorruptException("group state fields out of range: " + e);
        }
    }

    /** Checks the CRC32C in the last four bytes against every byte before it. */
    static void checkCrc(byte[] bytes, String what) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4)
                .order(ByteOrder.LITTLE_ENDIAN)
                .getInt();
        if (stored != (int) crc.getValue()) {
            throw new ArmDbCorruptException(what + " fails its CRC32C: stored " + Integer.toHexString(stored)
                    + ", computed " + Integer.toHexString((int) crc.getValue()));
        }
    }

    /** Puts a u16 length and the UTF-8 bytes of {@code s}. */
    static void putString(ByteBuffer b, String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        if (utf8.length > 0xFFFF) {
            throw new IllegalArgumentException("a string field holds at most 65535 bytes, got " + utf8.length);
        }
        b.putShort((short) utf8.length).put(utf8);
    }

    /** Reads a string {@link #putString} wrote. */
    static String getString(ByteBuffer b) {
        int n = Short.toUnsignedInt(b.getShort());
        byte[] utf8 = new byte[n];
        b.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }
}
