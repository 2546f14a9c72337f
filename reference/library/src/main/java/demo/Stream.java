package demo;

import dev.interlayer.models.generate.Generator;
import dev.interlayer.models.generate.Sampler;
import dev.interlayer.models.load.LoadedModel;
import dev.interlayer.models.load.ModelLoader;
import java.nio.file.Path;

public class Stream {
    public static void main(String[] args) throws Exception {
        try (LoadedModel m = ModelLoader.open(Path.of(args[0]))) {     // GGUF file or Hugging Face folder
            Generator gen = Generator.builder(m.requireLm(), m.tokenizer())
                    .sampler(Sampler.greedy()).maxTokens(32).build();
            System.out.print("The dog");
            gen.generate("The dog", t -> System.out.print(t.text()));  // streams " was ..."
            System.out.println();
        }
    }
}
