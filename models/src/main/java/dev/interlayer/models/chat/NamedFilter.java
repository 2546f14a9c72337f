package dev.interlayer.models.chat;

import com.hubspot.jinjava.lib.filter.Filter;

// A jinjava filter registered under the name it is built with: the chat-template filters Interlayer adds to jinjava
// or replaces in it (tojson, items, length/count).
abstract class NamedFilter implements Filter {
    private final String name;

    NamedFilter(String name) {
        this.name = name;
    }

    @Override
    public final String getName() {
        return name;
    }
}
