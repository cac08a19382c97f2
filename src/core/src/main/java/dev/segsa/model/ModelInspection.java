package dev.segsa.model;

import dev.segsa.error.SegsaException;
import org.bytedeco.pytorch.Block;
import org.bytedeco.pytorch.BlockArrayRef;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.FunctionVector;
import org.bytedeco.pytorch.Graph;
import org.bytedeco.pytorch.GraphFunction;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.JitNode;
import org.bytedeco.pytorch.global.torch;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Inspects a loaded TorchScript model before anything of it runs: every function of its
 * compilation unit (forward, every other method of the model and of its submodules, and every
 * free function they call) is walked node by node, nested blocks included, and the model is
 * refused when an operator can reach outside the process's memory: {@code aten::from_file}
 * (memory-maps, creates or overwrites a file), any other ATen operator on files, or an operator
 * outside the namespaces of LibTorch's own tensor operators ({@value #ALLOWED_NAMESPACES}), which
 * would come from a library loaded into the process. What is not checked: the arithmetic itself
 * (a model can still compute nonsense or loop for long), custom classes registered by LibTorch,
 * and the weights. TorchScript is code; {@code --trust-model} skips this check.
 */
public final class ModelInspection {
    static final String ALLOWED_NAMESPACES = "aten, prim, quantized, prepacked, profiler";
    private static final Set<String> ALLOWED = Set.of("aten", "prim", "quantized", "prepacked", "profiler");

    private ModelInspection() {}

    /** One operator that is refused, and where. */
    public record Finding(String function, String operator, String why) {}

    /** Every refused operator of the module's code (empty when it may run). */
    public static List<Finding> findings(JitModule module) {
        Set<Finding> out = new LinkedHashSet<>();
        FunctionVector functions = module.type().compilation_unit().get_functions();
        for (long i = 0; i < functions.size(); i++) {
            Function f = functions.get(i);
            GraphFunction g = torch.tryToGraphFunction(f);
            if (g == null || g.isNull()) continue;
            String name = g.qualname().qualifiedName().getString();
            Graph graph = g.graph();
            walk(graph.nodes().front(), graph.return_node(), name, out, 0);
        }
        return new ArrayList<>(out);
    }

    private static void walk(JitNode first, JitNode end, String function, Set<Finding> out, int depth) {
        if (depth > 256) {
            out.add(new Finding(function, "(blocks nested deeper than 256)", "cannot be inspected"));
            return;
        }
        for (JitNode n = first; n != null && !n.isNull() && n.address() != end.address(); n = n.next()) {
            String kind = n.kind().toQualString().getString();
            String why = why(kind);
            if (why != null) out.add(new Finding(function, kind, why));
            BlockArrayRef blocks = n.blocks();
            for (long b = 0; b < blocks.size(); b++) {
                Block block = blocks.at(b);
                walk(block.nodes().front(), block.return_node(), function, out, depth + 1);
            }
        }
    }

    /** Why an operator is refused, or null. */
    static String why(String kind) {
        int sep = kind.indexOf("::");
        String ns = sep < 0 ? "" : kind.substring(0, sep);
        String op = (sep < 0 ? kind : kind.substring(sep + 2)).toLowerCase(Locale.ROOT);
        if (!ALLOWED.contains(ns)) {
            return "an operator outside LibTorch's tensor operators (" + ALLOWED_NAMESPACES + "), from a library loaded into "
                    + "the process: it may touch files, processes or the network";
        }
        if (op.contains("file") || op.startsWith("save") || op.startsWith("_save")
                || op.startsWith("load") || op.startsWith("_load") || op.contains("mmap")) {
            return "reads, creates or overwrites files";
        }
        return null;
    }

    /** Refuses the model at {@code path} when it has findings, naming the operators and the functions that call them. */
    public static void check(JitModule module, Path path) {
        List<Finding> findings = findings(module);
        if (findings.isEmpty()) return;
        StringBuilder b = new StringBuilder(path + ": refusing to run this TorchScript model: ");
        for (int i = 0; i < Math.min(5, findings.size()); i++) {
            Finding f = findings.get(i);
            if (i > 0) b.append("; ");
            b.append(f.function()).append(" calls ").append(f.operator()).append(" (").append(f.why()).append(')');
        }
        if (findings.size() > 5) b.append("; and ").append(findings.size() - 5).append(" more");
        b.append(". If you trust this model, pass trustModel(true) to Segsa.Builder or SegsaFit.Builder (segsa: --trust-model)");
        throw new SegsaException(b.toString());
    }
}
