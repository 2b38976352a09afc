defmodule MixSystemd.MixProject do
  use Mix.Project

  @github "https://github.com/cogini/mix_systemd"
  @version "0.8.2"

  def project do
    [
      app: :mix_systemd,
      version: @version,
      elixir: "~> 1.12",
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      aliases: aliases(),
      dialyzer: [
        plt_add_apps: [:mix, :eex]
        # plt_add_deps: true,
        # flags: ["-Werror_handling", "-Wrace_conditions"],
      ],
      test_coverage: [tool: ExCoveralls],
      description: description(),
      package: package(),
      source_url: @github,
      docs: docs(),
      deps: deps()
    ]
  end

  def application do
    [extra_applications: [:logger, :eex]]
  end

  def cli do
    [preferred_envs: [coveralls: :test, "coveralls.html": :test, quality: :test]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]

  defp deps do
    [
      {:credo, "~> 1.6", only: [:dev, :test], runtime: false},
      {:ex_doc, "~> 0.40.0", only: :dev, runtime: false}
    ]
  end

  defp description do
    "Generate systemd unit files for an application."
  end

  defp package do
    [
      maintainers: ["Jake Morrison"],
      licenses: ["Apache-2.0"],
      links: %{
        "GitHub" => @github,
        "Changelog" =>
          "#{@github}/blob/#{@version}/CHANGELOG.md##{String.replace(@version, ".", "")}"
      }
    ]
  end

  defp docs do
    [
      main: "readme",
      extras: ["README.md", "CHANGELOG.md": [title: "Changelog"]],
      source_url_pattern: "#{@github}/blob/master/%{path}#L%{line}"
    ]
  end

  defp aliases do
    [setup: ["deps.get"], quality: ["test", "format --check-formatted", "credo"]]
  end
end
