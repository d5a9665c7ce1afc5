package dev.armdb.server;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One parsed request as slices of the connection's input buffer: argument {@code i} is {@link #length(int)} bytes at
 * {@link #offset(int)} of {@link #buffer()}. Reused by its {@link RespParser} for every request, so a request costs
 * no allocation once the slice arrays have grown to the largest argument count seen; valid only until the parser is
 * called again or the input buffer is compacted. Owned by the thread that owns the parser.
 */
final class RespRequest {
    private static final int INITIAL_ARGS = 8;
    private static final int SHRINK_ABOVE_ARGS = 1024;

    private byte[] buffer;
    private int base;
    private int argc;
    private int[] offsets = new int[INITIAL_ARGS];
    private int[] lengths = new int[INITIAL_ARGS];

    /** Number of arguments, the command name included; 0 for a blank request. */
    int argc() {
        return argc;
    }

    /** The array the arguments are slices of. */
    byte[] buffer() {
        return buffer;
    }

    /** Where argument {@code i} starts in {@link #buffer()}. */
    int offset(int i) {
        return base + offsets[i];
    }

    /** Length of argument {@code i} in bytes. */
    int length(int i) {
        return lengths[i];
    }

    /** True if argument {@code i} equals {@code upperCase} (ASCII letters compared without case). No allocation. */
    boolean argEquals(int i, String upperCase) {
        if (lengths[i] != upperCase.length()) {
            return false;
        }
        int p = offset(i);
        for (int j = 0; j < lengths[i]; j++) {
            int b = buffer[p + j];
            if (b >= 'a' && b <= 'z') {
                b -= 'a' - 'A';
            }
            if (b != upperCase.charAt(j)) {
                return false;
            }
        }
        return true;
    }

    /** A copy of argument {@code i}. */
    byte[] copy(int i) {
        return Arrays.copyOfRange(buffer, offset(i), offset(i) + lengths[i]);
    }

    /** Copies of all arguments, which stay valid after the input buffer moves on. */
    List<byte[]> toList() {
        List<byte[]> args = new ArrayList<>(argc);
        for (int i = 0; i < argc; i++) {
            args.add(copy(i));
        }
        return args;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < argc; i++) {
            sb.append(i == 0 ? "" : ", ")
                    .append(new String(buffer, offset(i), lengths[i], StandardCharsets.ISO_8859_1));
        }
        return sb.append(']').toString();
    }

    /** Forgets the arguments of the previous request; slice arrays grown for a huge request shrink back. */
    void clear() {
        argc = 0;
        if (offsets.length > SHRINK_ABOVE_ARGS) {
            offsets = new int[INITIAL_ARGS];
            lengths = new int[INITIAL_ARGS];
        }
    }

    /**
     * Appends an argument at {@code offset} bytes from the request's first byte. The slice arrays grow with the
     * arguments that actually arrived, never with the count a request announces.
     */
    void add(int offset, int length) {
        if (argc == offsets.length) {
            offsets = Arrays.copyOf(offsets, argc * 2);
            lengths = Arrays.copyOf(lengths, argc * 2);
        }
        offsets[argc] = offset;
        lengths[argc] = length;
        argc++;
    }

    /** Fixes the buffer the slices point into and where the request starts in it. */
    void bind(byte[] buffer, int base) {
        this.buffer = buffer;
        this.base = base;
    }
}
