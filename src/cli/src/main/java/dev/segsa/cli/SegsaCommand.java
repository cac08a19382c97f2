package dev.segsa.cli;

import dev.segsa.error.SegsaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code segsa} command line: one subcommand per step of the workflow. */
@Command(name = "segsa", mixinStandardHelpOptions = true, versionProvider = SegsaCommand.Version.class,
        description = {"Surprise Adequacy for semantic segmentation: ranks camera frames by how surprising they are "
                + "to a segmentation network, so that labelling can skip the frames it already handles."},
        subcommands = {FitCommand.class, ScoreCommand.class, TrainCommand.class, EvaluateCommand.class, SelectCommand.class, DemoCommand.class, GenerateCommand.class, CommandLine.HelpCommand.class})
public final class SegsaCommand implements Runnable {
    /** Exit status for errors in the input (files, models, options). */
    public static final int EXIT_INPUT_ERROR = 1;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (segsa --help lists them)");
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new SegsaCommand());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof SegsaException || ex instanceof IllegalArgumentException) {
                cmd.getErr().println("segsa " + cmd.getCommandName() + ": error: " + ex.getMessage());
                return EXIT_INPUT_ERROR;
            }
            throw ex;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SegsaCommand.class.getPackage().getImplementationVersion();
            return new String[] {"segsa " + (v != null ? v : "(development build)")};
        }
    }
}
