/* A two-input multiplexer. */
module mux2 (input logic s, input logic [3:0] a, b, output logic [3:0] y);
    assign y = s ? b : a;
endmodule
