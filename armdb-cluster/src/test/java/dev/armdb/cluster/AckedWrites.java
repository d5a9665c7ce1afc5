package dev.armdb.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.function.Function;

/**
 * The log of a test writer that writes in order and retries each write until it is acknowledged: write number {@code
 * s} sets key {@code s / 2} (prefix and digits) to value {@code s} ({@code v} and digits), so every key is written
 * twice, the second write overwriting the first. {@link #assertHeldBy} checks that a node holds, for every key written,
 * its last acknowledged value or the later one tried and not acknowledged (which may or may not have been applied).
 *
 * <p>Threading: one writer thread calls {@link #trying()} and {@link #acknowledged()}; others read after it stopped
 * (the fields are volatile, so a progress count read meanwhile is at most one write old).
 */
public final class AckedWrites {
    private final char prefix;
    private final String keyFormat;
    private final String valueFormat;
    /** Writes 0 to {@code acked - 1} are acknowledged. */
    private volatile long acked;
    /** Write {@code acked} was tried and not acknowledged (yet). */
    private volatile boolean tried;

    /** The log of keys starting with {@code prefix}, of 8-byte keys and values. */
    public AckedWrites(char prefix) {
        this(prefix, 8, 8);
    }

    /** The log of keys starting with {@code prefix}, of {@code keySize}-byte keys and {@code valueSize}-byte values. */
    public AckedWrites(char prefix, int keySize, int valueSize) {
        this.prefix = prefix;
        this.keyFormat = "%0" + (keySize - 1) + "d";
        this.valueFormat = "v%0" + (valueSize - 1) + "d";
    }

    /** The number of the next write to make (the one to retry after a failed attempt). */
    public long next() {
        return acked;
    }

    /** The key write {@code seq} sets. */
    public String key(long seq) {
        return prefix + String.format(keyFormat, seq / 2);
    }

    /** The value write {@code seq} sets. */
    public String value(long seq) {
        return String.format(valueFormat, seq);
    }

    /** Write {@link #next()} is about to be tried. */
    public void trying() {
        tried = true;
    }

    /** Write {@link #next()} was acknowledged. */
    public void acknowledged() {
        acked++;
        tried = false;
    }

    /** How many writes were acknowledged. */
    public long count() {
        return acked;
    }

    /**
     * Checks that every key written holds its last acknowledged value, or the value of the write tried after it; {@code
     * get} reads a key's value from the node (null: absent). Returns the number of keys checked.
     */
    public int assertHeldBy(Function<String, String> get, String what) {
        long n = acked;
        boolean pending = tried;
        int checked = 0;
        for (long k = 0; 2 * k < n; k++) {
            long lastAcked = Math.min(2 * k + 1, n - 1);
            long lastTried = pending && n / 2 == k ? n : lastAcked;
            String key = key(2 * k);
            String v = get.apply(key);
            assertThat(v).as("%s: acknowledged key %s", what, key).isNotNull();
            assertThat(Long.parseLong(v.substring(1)))
                    .as("%s: %s holds its last acknowledged value or the later one tried", what, key)
                    .isBetween(lastAcked, lastTried);
            checked++;
        }
        return checked;
    }
}
