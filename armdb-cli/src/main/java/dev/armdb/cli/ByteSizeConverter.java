package dev.armdb.cli;

import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses a positive byte count written as a number with an optional binary unit, as Redis' configuration does
 * ({@code 1048576}, {@code 512kb}, {@code 64mb}, {@code 1gb}; {@code k}/{@code m}/{@code g} alone too, all powers of
 * 1024). Stateless and thread-safe.
 */
final class ByteSizeConverter implements ITypeConverter<Long> {
    @Override
    public Long convert(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("b") && t.length() > 1 && Character.isLetter(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        int shift = 0;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'k' -> shift = 10;
                case 'm' -> shift = 20;
                case 'g' -> shift = 30;
                default -> shift = 0;
            }
        }
        String digits = shift == 0 ? t : t.substring(0, t.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new TypeConversionException(
                    "expected a size such as 1048576, 512kb, 64mb or 1gb, got '" + text + "'");
        }
        if (n <= 0 || n > (Long.MAX_VALUE >> shift)) {
            throw new TypeConversionException("expected a positive size, got '" + text + "'");
        }
        return n << shift;
    }
}
