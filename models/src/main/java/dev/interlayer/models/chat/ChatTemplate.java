package dev.interlayer.models.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import jinjava.javax.el.CompositeELResolver;

/**
 * A model's chat template: prompt = render(template, messages, bos_token, eos_token, add_generation_prompt),
 * evaluated as Hugging Face's {@code apply_chat_template} does (Jinja with {@code trim_blocks} and
 * {@code lstrip_blocks}, {@code raise_exception(msg)} and {@code strftime_now(format)} functions ({@link
 * PythonStrftime}), {@code namespace()}, {@code tojson} as
 * Python's {@code json.dumps} writes it, the {@code items} filter, {@code x[::-1]}) on
 * HubSpot's jinjava, with Python's {@code str} methods added ({@link PythonStringMethods}) because templates call
 * them. Immutable and thread-safe (each render runs its own interpreter).
 *
 * <p>The rendered text already holds the template's special tokens (e.g. {@code <|im_start|>}, and usually the
 * BOS text): tokenize it with special-token parsing on and without adding BOS again, as Hugging Face does.
 */
public final class ChatTemplate {
    /** Raised inside a template by {@code raise_exception}; carries the template's own message. */
    static final class Raised extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Raised(String message) {
            super(message, null, false, false);
        }
    }

    private static final Jinjava JINJAVA = newEngine();
    private static final java.util.regex.Pattern REVERSED_SLICE = java.util.regex.Pattern.compile("\\[\\s*::\\s*-1\\s*\\]");

    private final String source;
    private final String body;                  // source less one trailing newline, as Jinja's lexer drops it
    private final String bosToken, eosToken;

    /**
     * A template over {@code source}, with the token texts the template refers to as {@code bos_token} and
     * {@code eos_token} (empty when the model has none).
     */
    public ChatTemplate(String source, String bosToken, String eosToken) {
        this.source = Objects.requireNonNull(source, "source");
        // Jinja (keep_trailing_newline=False, Hugging Face's setting) drops a single trailing newline; jinjava keeps it
        String b = source.endsWith("\r\n") ? source.substring(0, source.length() - 2)
                : source.endsWith("\n") ? source.substring(0, source.length() - 1) : source;
        // jinjava's slices take no step: x[::-1] (Qwen3's reversed message walk) is written as the reverse filter,
        // which binds to the same primary expression
        this.body = REVERSED_SLICE.matcher(b).replaceAll("|reverse");
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
    }

    /** The Jinja source. */
    public String source() {
        return source;
    }

    /**
     * Renders {@code messages}; each message is a map with at least {@code role} and {@code content}
     * (strings), passed to the template as given.
     *
     * @param addGenerationPrompt end with the header that opens the assistant's turn
     * @throws ChatTemplateException with the template's {@code raise_exception} message (e.g. "Conversation roles
     *                               must alternate") or jinjava's error for a template it cannot evaluate
     */
    public String render(List<? extends Map<String, ?>> messages, boolean addGenerationPrompt) {
        Map<String, Object> ctx = new HashMap<>();
        List<Map<String, Object>> copy = new ArrayList<>(messages.size());
        for (Map<String, ?> m : messages) {
            copy.add(new LinkedHashMap<>(m));
        }
        ctx.put("messages", copy);
        ctx.put("bos_token", bosToken);
        ctx.put("eos_token", eosToken);
        ctx.put("add_generation_prompt", addGenerationPrompt);
        // a variable of the same name, so that `strftime_now is defined` (Llama 3.1's test) holds as in Hugging Face
        ctx.put("strftime_now", "strftime_now");
        RenderResult r;
        try {
            r = JINJAVA.renderForResult(body, ctx);
        } catch (RuntimeException e) {
            throw failure(e);
        }
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                Raised raised = raised(e.getException());
                throw new ChatTemplateException(raised != null ? raised.getMessage()
                        : "chat template error at line " + e.getLineno() + ": " + e.getMessage(), e.getException());
            }
        }
        return r.getOutput();
    }

    private static ChatTemplateException failure(RuntimeException e) {
        Raised raised = raised(e);
        return new ChatTemplateException(raised != null ? raised.getMessage() : "chat template error: " + e.getMessage(),
                e);
    }

    // The raise_exception call behind a jinjava error, if that is what failed.
    private static Raised raised(Throwable t) {
        for (int depth = 0; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof Raised r) {
                return r;
            }
        }
        return null;
    }

    /** {@code raise_exception(message)} as Hugging Face defines it for templates: fails the render. */
    public static String raiseException(String message) {
        throw new Raised(message);
    }

    /** {@code strftime_now(format)} as Hugging Face defines it for templates: the local time, Python-formatted. */
    public static String strftimeNow(String format) {
        return PythonStrftime.format(format, java.time.LocalDateTime.now());
    }

    private static Jinjava newEngine() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_WRITE);   // read-write: `set ns.x = ...`
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)                      // both as in apply_chat_template's environment
                .withElResolver(resolver)
                .withMaxOutputSize(64L << 20)                // a runaway template fails instead of filling memory
                // jinjava re-renders expression output that contains {{ or {% by default: message text would run
                // as template code (mangled content, and a request could loop for minutes); Jinja treats it as data
                .withNestedInterpretationEnabled(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseTrimmingForNotesAndExpressions(true)   // `{{-`/`-}}` strip as in Jinja
                        .withParseWhitespaceControlStrictly(true)
                        .withUseNaturalOperatorPrecedence(true)        // `a + b | trim` binds the filter first
                        .withKeepNullableLoopValues(true)
                        .withAllowAdjacentTextNodes(true)
                        .withUsePyishObjectMapper(true)                // {{ [1, 'a'] }} prints as Python does
                        .build())
                .build();
        Jinjava j = new Jinjava(config);
        j.getGlobalContext().registerFilter(new PythonJson());   // replaces jinjava's compact tojson
        j.getGlobalContext().registerFilter(new ItemsFilter());
        j.getGlobalContext().registerFilter(new LengthFilter("length"));
        j.getGlobalContext().registerFilter(new LengthFilter("count"));
        try {
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getMethod("raiseException", String.class)));
            j.getGlobalContext().registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplate.class.getMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        return j;
    }
}
