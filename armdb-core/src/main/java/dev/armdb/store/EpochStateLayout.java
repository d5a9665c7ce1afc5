package dev.armdb.store;

import dev.armdb.ArmDbCorruptException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Layout of {@code db.epoch}: the random epoch ids of the opens since (and including) the last open that followed
 * an unclean stop, oldest first, at most {@link #MAX_EPOCHS}. Little-endian; rewritten whole (temporary file,
 * force, rename, directory force) at every open.
 *
 * <pre>
 *  0                               8               12                                      12 + 8n   16 + 8n
 *  +-------------------------------+---------------+---------------------------------------+---------+
 *  |      magic "ARMDBEPO"         |  count n (u32)|  n epoch ids (u64 each, oldest first)  | CRC32C  |
 *  +-------------------------------+---------------+---------------------------------------+---------+
 * </pre>
 *
 * CRC32C covers every byte before it. Stateless.
 */
public final class EpochStateLayout {
    /** File name in the collection directory. */
    public static final String FILE_NAME = "db.epoch";
    /** "ARMDBEPO" in ASCII. */
    public static final byte[] MAGIC = {'A', 'R', 'M', 'D', 'B', 'E', 'P', 'O'};
    /** Offset of the count. */
    public static final int COUNT_OFFSET = 8;
    /** Offset of the first id. */
    public static final int IDS_OFFSET = 12;
    /** Most ids kept: positions from older opens are simply no longer trusted. */
    public static final int MAX_EPOCHS = 64;

    private EpochStateLayout() {}

    /** File size for {@code n} ids. */
    public static int size(int n) {
        return IDS_OFFSET + 8 * n + 4;
    }

    /** The file's bytes for {@code ids} (oldest first, at most {@link #MAX_EPOCHS}). */
    public static byte[] encode(long[] ids) {
        if (ids.length > MAX_EPOCHS) {
            throw new IllegalArgumentException("at most " + MAX_EPOCHS + " epoch ids, got " + ids.length);
        }
        ByteBuffer b = ByteBuffer.allocate(size(ids.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, MAGIC).putInt(COUNT_OFFSET, ids.length);
        for (int i = 0; i < ids.length; i++) {
            b.putLong(IDS_OFFSET + 8 * i, ids[i]);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.capacity() - 4);
        b.putInt(b.capacity() - 4, (int) crc.getValue());
        return b.array();
    }

    /**
     * The ids in the file's bytes, oldest first.
     *
     * @throws ArmDbCorruptException if the size, magic, count or CRC is wrong (what was expected and found)
     */
    public static long[] decode(byte[] bytes) {
        if (bytes.length < size(0)) {
            throw new ArmDbCorruptException(
                    FILE_NAME + " must be at least " + size(0) + " bytes, found " + bytes.length);
        }
        if (!Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new ArmDbCorruptException(FILE_NAME + " does not start with magic ARMDBEPO");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = b.getInt(COUNT_OFFSET);
        if (n < 0 || n > MAX_EPOCHS || bytes.length != size(n)) {
            throw new ArmDbCorruptException(FILE_NAME + " with count " + n + " must be " + size(Math.max(0, n))
                    + " bytes (count 0.." + MAX_EPOCHS + "), found " + bytes.length);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        if ((int) crc.getValue() != b.getInt(bytes.length - 4)) {
            throw new ArmDbCorruptException(FILE_NAME + " fails its CRC: stored "
                    + Integer.toHexString(b.getInt(bytes.length - 4)) + ", computed "
                    + Integer.toHexString((int) crc.getValue()));
        }
        long[] ids = new long[n];
        for (int i = 0; i < n; i++) {
            ids[i] = b.getLong(IDS_OFFSET + 8 * i);
        }
        return ids;
    }
}
