defmodule FooBar.MixProject do
  use Mix.Project

  @doc ~S"""
  "#{app}" app: :wrong
  """
  def x, do: 1

  def project do
    [
      app: :foo_bar,
      version: "0.1.0",
      elixir: "~> 1.14",
      start_permanent: Mix.env() == :prod,
      deps: deps()
    ]
  end

  defp deps do
    []
  end
end
