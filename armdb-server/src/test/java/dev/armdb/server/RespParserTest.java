package dev.armdb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The incremental RESP request parser, fed whole streams and streams cut at random places. */
class RespParserTest {
    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static List<String> strings(List<byte[]> args) {
        return args.stream()
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
            List<byte[]> args;
            while ((args = parser.next(in)) != null) {
                if (!args.isEmpty()) {
                    out.add(strings(args));
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
    void anIncompleteRequestLeavesThePositionAndTellsTheSizeItNeeds() {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.wrap(ascii("*2\r\n$4\r\nECHO\r\n$100000\r\nabc"));
        assertThat(parser.next(in)).isNull();
        assertThat(in.position()).isZero();
        assertThat(parser.needed()).isEqualTo("*2\r\n$4\r\nECHO\r\n$100000\r\n".length() + 100_000 + 2);
    }

    @Test
    void blankLinesAndEmptyArraysAreEmptyRequests() {
        RespParser parser = new RespParser();
        ByteBuffer in = ByteBuffer.wrap(ascii("\r\n*0\r\n  PING  \r\n"));
        assertThat(parser.next(in)).isEmpty();
        assertThat(parser.next(in)).isEmpty();
        assertThat(strings(parser.next(in))).containsExactly("PING");
        assertThat(in.hasRemaining()).isFalse();
    }

    @Test
    void malformedFramingIsAProtocolErrorNamingWhatWasExpected() {
        assertThatThrownBy(() -> new RespParser().next(ByteBuffer.wrap(ascii("*2\r\n$3\r\nGET\r\n$-7\r\n"))))
                .isInstanceOf(RespProtocolException.class)
                .hasMessageContaining("invalid bulk length -7");
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
