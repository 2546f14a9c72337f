package dev.interlayer.models.chat;

/** A chat template refused the conversation ({@code raise_exception}) or could not be evaluated. */
public final class ChatTemplateException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** An error with the template's message and the engine's exception, if any. */
    public ChatTemplateException(String message, Throwable cause) {
        super(message, cause);
    }
}
