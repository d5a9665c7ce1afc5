package dev.armdb.cli;

import dev.armdb.FixedMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code armdb dump}: prints live records of a collection that is not open. */
@Command(
        name = "dump",
        mixinStandardHelpOptions = true,
        description = "Print live records, one per line: key<TAB>value (opens the collection).")
final class DumpCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, description = "Collection directory.")
    Path dir;

    @Option(names = "--limit", defaultValue = "100", description = "Most records to print (default ${DEFAULT-VALUE}).")
    long limit;

    @Option(names = "--hex", description = "Print keys and values in hex (default: text, escaping non-printables).")
    boolean hex;

    @Override
    public Integer call() {
        long[] printed = {0};
        try (FixedMap map = FixedMap.open(dir)) {
            map.forEach((k, v) -> {
                if (printed[0] < limit) {
                    System.out.println(render(k) + "\t" + render(v));
                    printed[0]++;
                }
            });
        }
        return 0;
    }

    private String render(byte[] b) {
        if (hex) {
            return HexFormat.of().formatHex(b);
        }
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xFF;
            if (c >= 0x20 && c < 0x7F && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return new String(sb.toString().getBytes(StandardCharsets.US_ASCII), StandardCharsets.US_ASCII);
    }
}
