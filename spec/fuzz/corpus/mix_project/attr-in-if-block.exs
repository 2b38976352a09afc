defmodule Foo.MixProject do
  use Mix.Project
  @app :decoy
  if true do
    @app :real
  end

  def project do
    [app: @app, version: "0.1.0"]
  end
end
