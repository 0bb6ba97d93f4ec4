from seedata_server.cli import main

main(prog_name="seedata")
