package dev.armdb.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Layout of {@code db.boot}: which boot of the operating system last opened the collection, and the inode numbers of
 * its shard files then. ASCII text, rewritten whole at every open (temporary file, force, rename):
 *
 * <pre>
 * armdb-boot 1
 * boot &lt;the kernel's boot id&gt;
 * inodes &lt;inode of shard 0&gt; &lt;inode of shard 1&gt; ...
 * </pre>
 *
 * An open after an unclean stop that finds the same boot id and the same inodes knows the process died but the
 * kernel did not: every write the dead process made is still in the page cache, so the epochs before the stop stay
 * trusted. A reboot (new boot id) or files copied back from elsewhere (new inodes) do not qualify. Stateless.
 */
public final class BootStateLayout {
    /** File name in the collection directory. */
    public static final String FILE_NAME = "db.boot";
    /** First line. */
    static final String HEADER = "armdb-boot 1";

    private BootStateLayout() {}

    /** A boot id and the shard files' inodes. */
    record BootState(String bootId, long[] inodes) {
        /** True if this is the same boot and the same files as {@code other}. */
        boolean sameAs(BootState other) {
            return other != null && bootId.equals(other.bootId) && Arrays.equals(inodes, other.inodes);
        }
    }

    /** The file's bytes. */
    static byte[] encode(BootState s) {
        StringBuilder sb =
                new StringBuilder(HEADER).append("\nboot ").append(s.bootId()).append("\ninodes");
        for (long ino : s.inodes()) {
            sb.append(' ').append(ino);
        }
        return sb.append('\n').toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** The state in the file's bytes, or null if they are not a boot state (then nothing is trusted). */
    static BootState decode(byte[] bytes) {
        String[] lines = new String(bytes, StandardCharsets.US_ASCII).split("\n");
        if (lines.length != 3
                || !lines[0].equals(HEADER)
                || !lines[1].startsWith("boot ")
                || !lines[2].startsWith("inodes")) {
            return null;
        }
        String boot = lines[1].substring(5).trim();
        String[] parts = lines[2].substring(6).trim().split(" ");
        try {
            long[] inodes = lines[2].substring(6).isBlank()
                    ? new long[0]
                    : Arrays.stream(parts).mapToLong(Long::parseLong).toArray();
            return boot.isEmpty() ? null : new BootState(boot, inodes);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
