module empty_body (input a);
    // nothing here yet
    /* still nothing */
endmodule
