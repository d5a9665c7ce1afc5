package dev.armdb.store;

import dev.armdb.ArmDbCorruptException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Layout of {@code db.term}: the node's replication term, the number that orders leaders. It is the highest term
 * this node has led under or seen from a leader it followed; it only ever rises. Little-endian; rewritten whole
 * (temporary file, force, atomic rename, directory force) whenever it rises, so a crash leaves the old term or the
 * new one, never a mix. A missing file is term 0.
 *
 * <pre>
 *  0                               8               12              16                              24              28
 *  +-------------------------------+---------------+---------------+-------------------------------+---------------+
 *  |      magic "ARMDBTRM"         | format version|  reserved 0   |          term (u64)           |    CRC32C     |
 *  +-------------------------------+---------------+---------------+-------------------------------+---------------+
 * </pre>
 *
 * CRC32C covers every byte before it. Stateless.
 */
public final class TermStateLayout {
    /** File name in the collection directory. */
    public static final String FILE_NAME = "db.term";
    /** "ARMDBTRM" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'T', 'R', 'M'};
    /** Format version. */
    public static final int FORMAT_VERSION = 1;
    /** Offset of the format version. */
    public static final int VERSION_OFFSET = 8;
    /** Offset of the term. */
    public static final int TERM_OFFSET = 16;
    /** Offset of the CRC32C. */
    public static final int CRC_OFFSET = 24;
    /** File size. */
    public static final int SIZE = 28;

    private TermStateLayout() {}

    /**
     * The file's bytes for {@code term}.
     *
     * @throws IllegalArgumentException if {@code term} is negative
     */
    public static byte[] encode(long term) {
        if (term < 0) {
            throw new IllegalArgumentException("a term must be 0.." + Long.MAX_VALUE + ", got " + term);
        }
        ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, MAGIC).putInt(VERSION_OFFSET, FORMAT_VERSION).putLong(TERM_OFFSET, term);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, CRC_OFFSET);
        b.putInt(CRC_OFFSET, (int) crc.getValue());
        return b.array();
    }

    /**
     * The term in the file's bytes.
     *
     * @throws ArmDbCorruptException if the size, magic, version, CRC or term is wrong (what was expected and found)
     */
    public static long decode(byte[] bytes) {
        if (bytes.length != SIZE) {
            throw new ArmDbCorruptException(FILE_NAME + " must be " + SIZE + " bytes, found " + bytes.length);
        }
        if (!Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException(FILE_NAME + " does not start with magic ARMDBTRM");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, CRC_OFFSET);
        if ((int) crc.getValue() != b.getInt(CRC_OFFSET)) {
            throw new ArmDbCorruptException(FILE_NAME + " fails its CRC: stored "
                    + Integer.toHexString(b.getInt(CRC_OFFSET)) + ", computed "
                    + Integer.toHexString((int) crc.getValue()));
        }
        int version = b.getInt(VERSION_OFFSET);
        if (version != FORMAT_VERSION) {
            throw new ArmDbCorruptException(
                    FILE_NAME + " must be format version " + FORMAT_VERSION + ", found " + version);
        }
        long term = b.getLong(TERM_OFFSET);
        if (term < 0) {
            throw new ArmDbCorruptException(FILE_NAME + " holds a negative term " + term);
        }
        return term;
    }
}
