defmodule Foo.MixProject do
  use Mix.Project

  @app :wrong; @app :foo_bar
  @source_url "https://github.com/me/#{@app}"
  @apps [@app | []]
  @label to_string(@app) <> "!"
  @external_resource "mix.exs"
  Code.ensure_loaded?(Hex)
  if @app == :foo_bar do
    defp extra, do: []
  end

  def project(:old), do: [app: :wrong]
  def project, do: [app: @app, name: @label, deps: extra()]
  def project(a, b \\ 1), do: [app: a, b: b]

  defmacro x do
    quote do
      def project, do: [app: :wrong]
    end
  end
end
