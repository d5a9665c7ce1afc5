package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The incremental RESP request parser, fed whole streams and streams cut at random places. */
class RespParserTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static List<String> strings(RespRequest request) {
        return request.toList().stream()
                .map(b -> new String(b, StandardCharsets.ISO_8859_1))
                .toList();
    }

    /** Feeds {@code stream} in chunks cut by {@code random} (one connection's reads) and collects every request. */
    private static List<List<String>> parseInChunks(byte[] stream, Random random) {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.allocate(stream.length + 16);
        List<List<String>> out = new ArrayList<>();
        int fed = 0;
        while (fed < stream.length) {
            int n = Math.min(stream.length - fed, 1 + random.nextInt(40));
            in.put(stream, fed, n);
            fed += n;
            in.flip();
            RespRequest request;
            while ((request = parser.next(in)) != null) {
                if (request.argc() > 0) {
                    out.add(strings(request));
                }
            }
            in.compact();
        }
        assertThat(in.position()).as("bytes left unparsed").isZero();
        return out;
    }

    @Test
    void requestsCutAtRandomPlacesParseAsWhole() {
        long seed = System.nanoTime();
        System.out.println("RespParserTest seed " + seed);
        Random random = new Random(seed);
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        List<List<String>> expected = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            List<String> req = new ArrayList<>();
            int argc = 1 + random.nextInt(4);
            for (int a = 0; a < argc; a++) {
                req.add("x".repeat(random.nextInt(30)) + i);
            }
            if (random.nextInt(5) == 0) {
                stream.writeBytes(ascii(String.join(" ", req) + (random.nextBoolean() ? "\r\n" : "\n")));
            } else {
                stream.writeBytes(ascii("*" + req.size() + "\r\n"));
                for (String s : req) {
                    stream.writeBytes(ascii("$" + s.length() + "\r\n" + s + "\r\n"));
                }
            }
            expected.add(req);
        }
        assertThat(parseInChunks(stream.toByteArray(), random))
                .as("seed " + seed)
                .isEqualTo(expected);
    }

    @Test
    void anIncompleteRequestLeavesThePositionAndResumesAfterWhatItParsed() {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.allocate(64);
        in.put(ascii("*2\r\n$4\r\nECHO\r\n$5\r\nab")).flip();
        assertThat(parser.next(in)).isNull();
        assertThat(in.position()).isZero();
        assertThat(parser.state()).isEqualTo(RespParser.State.BULK_BODY);
        // the caller compacts and appends: the offsets kept from the request's first byte stay valid
        in.compact().put(ascii("cde\r\n")).flip();
        assertThat(strings(parser.next(in))).containsExactly("ECHO", "abcde");
        assertThat(in.hasRemaining()).isFalse();
        assertThat(parser.state()).isEqualTo(RespParser.State.START);
    }

    @Test
    void anAnnouncedHugeBulkAllocatesNothingBeforeItsBytesArrive() {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.wrap(ascii("*1\r\n$536870000\r\n"));
        parser.next(in);
        long before = allocatedBytes();
        int incomplete = 0;
        for (int i = 0; i < 100; i++) {
            incomplete += parser.next(in) == null ? 1 : 0;
        }
        long allocated = allocatedBytes() - before;
        assertThat(incomplete).isEqualTo(100);
        assertThat(allocated).as("bytes allocated for a 512 MiB announcement").isLessThan(64 << 10);
        assertThat(parser.state()).isEqualTo(RespParser.State.BULK_BODY);
    }

    /**
     * A request of 100,000 arguments fed a byte at a time: each call parses only what is new, so this is linear
     * (milliseconds); a parser starting over at every call would need about 10^11 byte steps (hours).
     */
    @Test
    void aHugeRequestFedAByteAtATimeIsParsedOnce() {
        int args = 100_000;
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.writeBytes(ascii("*" + args + "\r\n$6\r\nEXISTS\r\n"));
        for (int i = 1; i < args; i++) {
            stream.writeBytes(ascii("$1\r\n" + (char) ('a' + i % 26) + "\r\n"));
        }
        byte[] bytes = stream.toByteArray();
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.allocate(bytes.length);
        RespRequest request = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        for (int i = 0; i < bytes.length; i++) {
            if ((i & 4095) == 0 && System.nanoTime() > deadline) {
                throw new AssertionError("not linear: " + i + " of " + bytes.length + " bytes parsed in 60 s");
            }
            in.put(bytes[i]).flip();
            request = parser.next(in);
            assertThat(request == null).as("whole only after the last byte").isEqualTo(i < bytes.length - 1);
            in.position(in.limit()).limit(in.capacity());
        }
        assertThat(request.argc()).isEqualTo(args);
        assertThat(request.argEquals(0, "EXISTS")).isTrue();
        assertThat(request.copy(args - 1)).isEqualTo(ascii(String.valueOf((char) ('a' + (args - 1) % 26))));
    }

    @Test
    void countsAndLengthsBeyondTheLimitsAreRefusedWithRedisWording() {
        assertThatThrownBy(() ->
                        new RespParser().next(ByteBuffer.wrap(ascii("*" + (RespParser.MAX_ARGS + 1) + "\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessage("invalid multibulk length");
        assertThatThrownBy(() ->
                        new RespParser().next(ByteBuffer.wrap(ascii("*1\r\n$" + (RespParser.MAX_BULK + 1) + "\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessage("invalid bulk length");
        RespParser limited = new RespParser(1 << 16);
        assertThat(limited.next(ByteBuffer.wrap(ascii("*1\r\n$65536\r\n")))).isNull();
        assertThatThrownBy(() -> new RespParser(1 << 16).next(ByteBuffer.wrap(ascii("*1\r\n$65537\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessage("invalid bulk length");
    }

    @Test
    void commandNamesMatchWithoutCaseOnTheBytes() {
        RespRequest r = new RespParser().next(ByteBuffer.wrap(ascii("*2\r\n$3\r\ngEt\r\n$1\r\nk\r\n")));
        assertThat(r.argEquals(0, "GET")).isTrue();
        assertThat(r.argEquals(0, "SET")).isFalse();
        assertThat(r.argEquals(0, "GETX")).isFalse();
        assertThat(r.argEquals(1, "K")).isTrue();
    }

    /**
     * The parser side of the request path allocates nothing per request once warm: a pipeline of GETs and SETs is
     * parsed into argument slices of the input buffer, with command names matched on bytes.
     */
    @Test
    void parsingAPipelineOfGetsAndSetsAllocatesNothingPerRequest() {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        int requests = 0;
        for (int i = 0; i < 500; i++) {
            stream.writeBytes(ascii("*3\r\n$3\r\nSET\r\n$8\r\nkey" + (10_000 + i) + "\r\n$16\r\n0123456789abcdef\r\n"));
            stream.writeBytes(ascii("*2\r\n$3\r\nGET\r\n$8\r\nkey" + (10_000 + i) + "\r\n"));
            stream.writeBytes(ascii("GET key" + (10_000 + i) + "\r\n"));
            requests += 3;
        }
        ByteBuffer in = ByteBuffer.wrap(stream.toByteArray());
        RespParser parser = new RespParser();
        long sink = 0;
        for (int warm = 0; warm < 2_000; warm++) {
            sink += parseAll(parser, in);
        }
        long before = allocatedBytes();
        int rounds = 200;
        for (int r = 0; r < rounds; r++) {
            sink += parseAll(parser, in);
        }
        long perRequest = (allocatedBytes() - before) / ((long) rounds * requests);
        assertThat(sink).isEqualTo(2_200L * 500 * (32 + 8 + 8));
        assertThat(perRequest).as("bytes allocated per request parsed").isZero();
    }

    /** Parses every request in {@code in} from its start; sums the value lengths of SETs and key lengths of GETs. */
    private static long parseAll(RespParser parser, ByteBuffer in) {
        in.position(0);
        long sum = 0;
        RespRequest r;
        while ((r = parser.next(in)) != null) {
            if (r.argEquals(0, "SET")) {
                sum += r.length(2) * 2L;
            } else if (r.argEquals(0, "GET")) {
                sum += r.length(1);
            }
        }
        return sum;
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void blankLinesAndEmptyArraysAreEmptyRequests() {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.wrap(ascii("\r\n*0\r\n  PING  \r\n"));
        assertThat(parser.next(in).argc()).isZero();
        assertThat(parser.next(in).argc()).isZero();
        assertThat(strings(parser.next(in))).containsExactly("PING");
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void malformedFramingIsAProtocolErrorNamingWhatWasExpected() {
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(ascii("*2\r\n$3\r\nGET\r\n$-7\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessage("invalid bulk length");
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(ascii("*1\r\n:3\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessageContaining("expected '$', got ':'");
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(ascii("*1\r\n$3\r\nGETxx"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessageContaining("expected CRLF after a bulk string");
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(ascii("*x\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessageContaining("expected a number followed by CRLF");
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(ascii("*9999999999999999999\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessageContaining("number too long");
        byte[] longLine = ascii("A".repeat(RespParser.MAX_LINE + 1));
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(longLine)))
                .isInstanceOf(RespProtocolException.class)
                .hasMessageContaining("too big inline request");
    }
}
