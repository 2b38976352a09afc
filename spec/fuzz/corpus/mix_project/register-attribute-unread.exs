defmodule Foo.MixProject do
  use Mix.Project
  Module.register_attribute(__MODULE__, :app, accumulate: true)
  @app :first
  @app :second
  def project, do: [app: :real_app, version: "0.1.0"]
end
