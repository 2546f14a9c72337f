package dev.interlayer.models.chat;

import java.time.DayOfWeek;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * Python's {@code datetime.strftime} in the C locale, for the {@code strftime_now(format)} function that Hugging
 * Face's {@code apply_chat_template} gives templates (Llama 3.1 and later print today's date with
 * {@code strftime_now("%d %b %Y")}). Directives: {@code %a %A %w %d %b %B %m %y %Y %H %I %p %M %S %f %j %U %W
 * %c %x %X %%}, plus glibc's {@code %e}; any other directive is refused (Python would pass it to the platform's C
 * library, whose output differs by platform).
 */
public final class PythonStrftime {
    // The C locale's names, spelled out: java.time's locale data (CLDR) differs by locale and JDK version
    private static final String[] DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December"};

    private PythonStrftime() {
    }

    /**
     * {@code t.strftime(format)} as CPython on glibc writes it in the C locale.
     *
     * @throws IllegalArgumentException naming a directive outside the list above, or a lone trailing {@code %}
     */
    public static String format(String format, LocalDateTime t) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                sb.append(c);
                continue;
            }
            if (++i == format.length()) {
                throw new IllegalArgumentException("strftime: format ends with a lone '%': " + format);
            }
            sb.append(directive(format.charAt(i), t, format));
        }
        return sb.toString();
    }

    private static String directive(char d, LocalDateTime t, String format) {
        return switch (d) {
            case 'a' -> DAYS[t.getDayOfWeek().getValue() - 1].substring(0, 3);
            case 'A' -> DAYS[t.getDayOfWeek().getValue() - 1];
            case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);   // Sunday = 0
            case 'd' -> two(t.getDayOfMonth());
            case 'e' -> String.format(Locale.ROOT, "%2d", t.getDayOfMonth());
            case 'b' -> MONTHS[t.getMonthValue() - 1].substring(0, 3);
            case 'B' -> MONTHS[t.getMonthValue() - 1];
            case 'm' -> two(t.getMonthValue());
            case 'y' -> two(Math.floorMod(t.getYear(), 100));
            case 'Y' -> Integer.toString(t.getYear());
            case 'H' -> two(t.getHour());
            case 'I' -> two(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12);
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'M' -> two(t.getMinute());
            case 'S' -> two(t.getSecond());
            case 'f' -> String.format(Locale.ROOT, "%06d", t.getNano() / 1000);
            case 'j' -> String.format(Locale.ROOT, "%03d", t.getDayOfYear());
            case 'U' -> two(weekOfYear(t, DayOfWeek.SUNDAY));
            case 'W' -> two(weekOfYear(t, DayOfWeek.MONDAY));
            case 'c' -> format("%a %b %e %H:%M:%S %Y", t);
            case 'x' -> format("%m/%d/%y", t);
            case 'X' -> format("%H:%M:%S", t);
            case '%' -> "%";
            default -> throw new IllegalArgumentException("strftime: directive %" + d + " is not supported (supported:"
                    + " %a %A %w %d %e %b %B %m %y %Y %H %I %p %M %S %f %j %U %W %c %x %X %%) in " + format);
        };
    }

    // Week number with weeks starting on firstDay; days before the year's first such day are in week 0.
    private static int weekOfYear(LocalDateTime t, DayOfWeek firstDay) {
        LocalDateTime jan1 = t.withDayOfYear(1).truncatedTo(ChronoUnit.DAYS);
        int offset = Math.floorMod(firstDay.getValue() - jan1.getDayOfWeek().getValue(), 7);   // days to 1st firstDay
        return (t.getDayOfYear() - 1 - offset + 7) / 7;
    }

    private static String two(int v) {
        return v < 10 ? "0" + v : Integer.toString(v);
    }
}
