defmodule Foo.MixProject do
  use Mix.Project
  @app :decoy
  Module.put_attribute(__MODULE__, :app, :real)

  def project do
    [app: @app, version: "0.1.0"]
  end
end
